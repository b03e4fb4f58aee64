import closeWithGrace from 'close-with-grace'
import pino from 'pino'
import { buildApp, loggerOptions } from './app.ts'
import { prepareDatabase } from './bootstrap.ts'
import { ConfigError, loadConfig, type Config } from './config.ts'
import { asyncContextAdvice } from './db/client-presence.ts'
import { DOCS_PATH } from './http/openapi.ts'

// Process entry: config -> database -> migrate (-> demo content) -> app -> listen.
// Any failure before listening exits non-zero with the reason, so an orchestrator sees it.

function readConfig (): Config {
  try {
    return loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
}

const config = readConfig()
// A person at a terminal reads lines, a log collector parses JSON: pretty only on a TTY (or when asked).
const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && process.stdout.isTTY === true)
// pino-pretty is loaded only then: a service writing JSON logs never uses its megabyte of heap.
const log = pretty
  ? pino(loggerOptions(config), (await import('pino-pretty')).default({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', singleLine: true, sync: true }))
  : pino(loggerOptions(config))

try {
  const startedAt = performance.now()
  const database = await prepareDatabase(config, log)
  const app = await buildApp({ config, database, logger: log })

  // On SIGTERM/SIGINT: stop accepting, let requests in flight finish, let the webhook
  // dispatcher finish its sends, and only then close the database. Past the timeout, exit anyway.
  closeWithGrace({ delay: config.shutdownTimeoutMs, logger: log }, async ({ signal, err }) => {
    if (err !== undefined) log.error({ err }, 'shutting down after an error')
    else log.info({ signal }, 'shutting down')
    const started = performance.now()
    await app.close()
    await database.close()
    log.info({ drainMs: Math.round(performance.now() - started) }, 'shut down cleanly')
  })

  await app.listen({ port: config.port, host: config.host })
  log.info({ startupMs: Math.round(performance.now() - startedAt) },
    `content API ready: ${config.publicBaseUrl}/v1/blogs, docs at ${config.publicBaseUrl}${DOCS_PATH}`)
  const advice = asyncContextAdvice()
  if (advice !== undefined) log.warn(advice)
} catch (error) {
  log.fatal({ err: error }, 'could not start')
  process.exit(1)
}
