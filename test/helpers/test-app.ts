import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import type { Test } from 'tap'
import { buildApp, loggerOptions } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { createTestDatabase, type TestDatabase } from './test-database.ts'

export interface TestApp {
  app: FastifyInstance
  testDb: TestDatabase
  /** Every log line the app wrote, parsed. */
  logs: Array<Record<string, unknown>>
}

/**
 * An app on this test's own migrated database, closed (and the database dropped) when the test
 * ends. `env` is parsed like the process environment, so tests exercise the real config path.
 * `sameDatabaseAs` gives it another test app's database instead: a second API process's worth.
 */
export async function buildTestApp (t: Test, env: Record<string, string> = {}, options: { backgroundJobs?: boolean, sameDatabaseAs?: TestApp } = {}): Promise<TestApp> {
  const testDb = options.sameDatabaseAs?.testDb ?? await createTestDatabase()
  if (options.sameDatabaseAs === undefined) t.teardown(() => testDb.destroy())
  const logs: Array<Record<string, unknown>> = []
  const sink = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') logs.push(JSON.parse(line) as Record<string, unknown>)
      done()
    }
  })
  // Overload shedding off unless a test asks for it: on a busy machine the event loop of a test
  // process can stall past its 1 s limit, and a 503 there says nothing about the route under test.
  // The response cache stores a response at its first request unless a test asks for the default
  // (the second, RESPONSE_CACHE_MIN_USES=2): tests of what is cached and purged see it at once.
  const config = loadConfig({ LOG_LEVEL: 'info', PUBLIC_BASE_URL: 'http://api.test', OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0', RESPONSE_CACHE_MIN_USES: '1', ...env })
  // Background loops (scheduler, webhook dispatcher) only where a test asks: the rest stay deterministic.
  const app = await buildApp({ config, database: testDb.database, logger: pino(loggerOptions(config), sink), backgroundJobs: options.backgroundJobs ?? false })
  t.teardown(() => app.close())
  return { app, testDb, logs }
}
