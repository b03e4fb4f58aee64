import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { constants, PerformanceObserver } from 'node:perf_hooks'
import { GCProfiler } from 'node:v8'
import { sql } from 'kysely'
import t, { type Test } from 'tap'
import type { Database } from '../../src/db/database.ts'
import { openPGlite } from '../../src/db/pglite.ts'
import { openPostgres } from '../../src/db/postgres.ts'
import { testServerUrl } from '../helpers/test-database.ts'

// A query's rows are garbage as soon as the response is written, and must die young: promoted
// to V8's old generation, a page's strings stay until the next full collection, and under load
// the old generation grew to several times the live heap (named-statements.ts says how `pg` did
// that). Counted, not timed: what the young-generation collections moved into the old
// generation while queries ran, against the bytes of text the rows carried. Both drivers: pg
// for PostgreSQL, PGlite for the embedded database `npm start` runs on by default (4-8 %
// there, growing with the number of queries: 0.8-1.8 KB a query through Kysely's PGlite dialect,
// almost none through PGlite's own query; README, "Rows die young"; 0.1-0.6 % through pg; pg's own
// promise kept 186-210 %).

const serverUrl = testServerUrl()
const ROWS = 20
const TEXT_CHARS = 2048

interface GcStatistics { gcType: string, beforeGC: HeapState, afterGC: HeapState }
interface HeapState { heapSpaceStatistics: Array<{ spaceName: string, spaceUsedSize: number }> }

/** Bytes in the old generation's spaces (objects promoted from the young one land there). */
function oldGenerationBytes (state: HeapState): number {
  return state.heapSpaceStatistics
    .filter((space) => space.spaceName === 'old_space' || space.spaceName === 'large_object_space')
    .reduce((sum, space) => sum + space.spaceUsedSize, 0)
}

interface Reading { promoted: number, received: number, youngCollections: number }

/**
 * Reads a page of 20 rows (2 KB of text each) one query at a time, first until two young
 * collections ran (what opening the database and the first queries left behind is promoted
 * then, and is not what this is about), then until eight more ran; what those moved into the
 * old generation, and the text the rows carried meanwhile.
 */
async function promotedWhileReading (database: Database): Promise<Reading> {
  const page = sql<{ body: string }>`SELECT repeat(md5(g::text), ${TEXT_CHARS / 32}::int) || ' Ελληνικά 中文' AS body FROM generate_series(1, ${ROWS}) g`
  await page.execute(database.db)

  // Young collections as they happen, to know when enough ran to tell (the new space's size,
  // hence how often it is collected, depends on the machine's memory and the Node version).
  let youngCollections = 0
  const observer = new PerformanceObserver((list) => {
    youngCollections += list.getEntries().filter((entry) => ((entry as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MINOR).length
  })
  observer.observe({ entryTypes: ['gc'] })
  try {
    let received = 0
    const readUntil = async (collections: number) => {
      const target = youngCollections + collections
      for (let round = 0; round < 20_000 && youngCollections < target; round++) {
        const { rows } = await page.execute(database.db)
        for (const row of rows) received += row.body.length
        if (round % 50 === 49) await new Promise((resolve) => setImmediate(resolve))
      }
    }
    await readUntil(2)
    received = 0
    const profiler = new GCProfiler()
    profiler.start()
    // One query at a time: a result still arriving when a young collection runs is rightly kept,
    // and with one in flight that is at most one result's rows a collection (well under 1 % of
    // the text here through pg; through PGlite 4-8 %, the dialect's per-query share above); on a busy
    // machine four at a time kept 21 % through pg. What this guards against kept all of them,
    // over 160 %.
    await readUntil(8)
    const statistics = (profiler.stop()?.statistics ?? []) as GcStatistics[]
    const young = statistics.filter((s) => s.gcType === 'Scavenge' || s.gcType === 'MinorMarkSweep')
    const promoted = young.reduce((sum, s) => sum + Math.max(0, oldGenerationBytes(s.afterGC) - oldGenerationBytes(s.beforeGC)), 0)
    return { promoted, received, youngCollections: young.length }
  } finally {
    observer.disconnect()
  }
}

function assertRowsDieYoung (t: Test, { promoted, received, youngCollections }: Reading): void {
  const mb = (bytes: number) => (bytes / 1048576).toFixed(1)
  t.ok(youngCollections >= 4, `young collections ran while the rows came in (${youngCollections}; ${mb(received)} MB of row text)`)
  t.ok(promoted < received * 0.1,
    `promoted ${mb(promoted)} MB to the old generation, ${(100 * promoted / received).toFixed(1)} % of the ${mb(received)} MB of text the rows carried (at most 10 %)`)
}

t.test('the rows of a query through the PostgreSQL pool are not promoted to the old generation', { skip: serverUrl === undefined ? 'runs against PostgreSQL (TEST_DATABASE_URL)' : false }, async (t) => {
  const database = openPostgres({ url: serverUrl!, poolSize: 4 })
  t.teardown(() => database.close())
  assertRowsDieYoung(t, await promotedWhileReading(database))
})

t.test('the rows of a query through the embedded database are not promoted to the old generation', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'rows-young-'))
  const database = await openPGlite(dataDir)
  t.teardown(async () => {
    await database.close()
    await rm(dataDir, { recursive: true, force: true })
  })
  assertRowsDieYoung(t, await promotedWhileReading(database))
})
