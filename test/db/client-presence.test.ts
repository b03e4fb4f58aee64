import { sql, type Kysely } from 'kysely'
import t from 'tap'
import { ClientGoneError, onBehalfOf, presenceOfThisClient } from '../../src/db/client-presence.ts'
import type { Database } from '../../src/db/database.ts'
import { lookupBatches } from '../../src/db/lookup-batches.ts'
import type { DB } from '../../src/db/schema.ts'
import { holdEveryConnection as holdConnections, untilWaitingForConnection as untilWaiting } from '../helpers/held-connections.ts'
import { createTestDatabase } from '../helpers/test-database.ts'

// A read for a client that has gone is not started (src/db/client-presence.ts), on PostgreSQL and
// on the embedded database. Whether a statement ran is read from a sequence it advances: a
// SELECT of nextval() leaves its mark whether or not anyone reads the answer.

/** Takes every connection until the returned function is called. */
const holdEveryConnection = async (database: Database) => (await holdConnections(database)).release

/** Runs `work` on behalf of a client that has gone once `client.gone` is true. */
function forClient<T> (client: { gone: boolean }, work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => onBehalfOf(() => client.gone, () => { work().then(resolve, reject) }))
}

const advance = (db: Kysely<DB>) => sql<{ n: string }>`SELECT nextval('presence_probe') AS n`.execute(db)
const advancedBy = async (db: Kysely<DB>, before: number) =>
  Number((await sql<{ n: string }>`SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM presence_probe`.execute(db)).rows[0]!.n) - before

t.test('client presence', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  const { database } = testDb
  const db = database.db
  await sql`CREATE SEQUENCE presence_probe`.execute(db)
  const mark = async () => advancedBy(db, 0)

  t.test('a read whose client leaves while it waits for a connection is not run', async (t) => {
    const before = await mark()
    const release = await holdEveryConnection(database)
    const client = { gone: false }
    const read = forClient(client, async () => advance(db)).then(() => 'ran', (error: unknown) => error)
    await untilWaiting(database)
    client.gone = true
    await release()
    t.type(await read, ClientGoneError)
    t.equal(await advancedBy(db, before), 0, 'the statement never reached the database')
  })

  t.test('a client that stays is answered, and one gone before it asks waits for nothing', async (t) => {
    const before = await mark()
    const release = await holdEveryConnection(database)
    const staying = forClient({ gone: false }, async () => advance(db))
    await untilWaiting(database)
    const gone = forClient({ gone: true }, async () => advance(db)).then(() => 'ran', (error: unknown) => error)
    // A pool's queue is not joined at all; the embedded database's one connection is behind a
    // lock of Kysely's that every statement takes its turn at, this one too.
    if (database.poolStats !== undefined) t.type(await gone, ClientGoneError, 'refused before joining the queue, while every connection is still held')
    await release()
    t.type(await gone, ClientGoneError)
    t.equal((await staying).rows.length, 1)
    t.equal(await advancedBy(db, before), 1, 'only the staying client\'s statement ran')
  })

  t.test('work for no client runs whatever happens to the clients around it', async (t) => {
    const before = await mark()
    await advance(db)
    await db.transaction().execute(async (trx) => { await advance(trx) })
    t.equal(await advancedBy(db, before), 2)
  })

  t.test('a lookup batch answers the clients still waiting though the one whose ask sent it has gone', async (t) => {
    // "first" holds the batches' one lane until the test opens its gate, without a query: the
    // asks after it wait together and go out as one batch when it returns.
    let openFirst = () => {}
    const sent: string[][] = []
    const batches = lookupBatches<null, string, string>({
      async fetch (_query, keys) {
        sent.push(keys)
        if (keys[0] === 'first') {
          await new Promise<void>((resolve) => { openFirst = resolve })
          return keys
        }
        const { rows } = await sql<{ n: string }>`SELECT nextval('presence_probe') AS n FROM unnest(${keys}::text[])`.execute(db)
        return rows.map((row) => row.n)
      },
      maxInFlight: 1,
      stallMs: 60_000,
      maxStalledInFlight: 1,
      maxBatch: 10
    })
    const ask = (client: { gone: boolean }, key: string) => forClient(client, async () => batches.load('probe', null, key))
      .then((row) => row, (error: unknown) => error)
    const untilFirstSent = async () => { while (sent.at(-1)?.[0] !== 'first') await new Promise((resolve) => setTimeout(resolve, 5)) }

    // A client that leaves before its batch goes out: its key is left out of it.
    let before = await mark()
    const first = ask({ gone: false }, 'first')
    await untilFirstSent()
    const leaving = { gone: false }
    const left = ask(leaving, 'leaves before it is sent')
    const stays = ask({ gone: false }, 'stays')
    leaving.gone = true
    openFirst()
    t.equal(await first, 'first')
    t.type(await left, ClientGoneError)
    t.type(await stays, 'string', 'the client still waiting gets its row')
    t.same(sent.slice(-2), [['first'], ['stays']], 'the key of the client that left is not looked up')
    t.equal(await advancedBy(db, before), 1)

    // A batch sent for two clients waits for a connection: one leaves, and it still runs for the
    // other (whose ask did not send it); both leave, and it is not run at all.
    for (const leaves of [['a'], ['a', 'b']] as const) {
      const clients = { a: { gone: false }, b: { gone: false } }
      const trigger = ask({ gone: false }, 'first')
      await untilFirstSent()
      const answers = Promise.all([ask(clients.a, 'a'), ask(clients.b, 'b')])
      before = await mark()
      const release = await holdEveryConnection(database)
      openFirst()
      await trigger
      await untilWaiting(database)
      t.same(sent.at(-1), ['a', 'b'], 'a and b went out as one batch')
      for (const name of leaves) clients[name].gone = true
      await release()
      const [a, b] = await answers
      if (leaves.length === 1) {
        t.type(a, 'string', 'one client still waits: the batch runs, and reads both rows')
        t.type(b, 'string')
        t.equal(await advancedBy(db, before), 2)
      } else {
        t.type(a, ClientGoneError)
        t.type(b, ClientGoneError)
        t.equal(await advancedBy(db, before), 0, 'every client gone: the batch never reached the database')
      }
    }
  })

  t.test('a presence taken outside any client is never gone', async (t) => {
    t.equal(presenceOfThisClient()(), false)
  })
})
