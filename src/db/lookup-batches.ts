import { ClientGoneError, onBehalfOfEach, presenceOfThisClient } from './client-presence.ts'

// A request for one post by its address costs PostgreSQL and the API a round trip each: a pool
// connection, a Bind/Execute, a backend woken to answer and the API woken for the reply, a
// result message parsed. Under load that per-query cost, not the row, is most of a single
// post's time (the README's benchmark notes). Lookup batches send the keys asked for while
// earlier lookups of the same kind were in flight as one query, the way DataLoader does: a
// lookup with nothing in flight is sent at once, so nothing waits unless others were already
// waiting on the database, and the more requests arrive at once, the fewer queries they make.
//
// Every key asked for is looked up in the query that answers it, one result row per ask, the
// same key asked twice looked up twice: a batch is many lookups in one statement, not a cache,
// and no request is answered from a row read for another, or from before it arrived.

export interface LookupBatchOptions<Query, Key, Row> {
  /** The rows for `keys`, in their order, undefined where there is none; one query. */
  fetch: (query: Query, keys: Key[]) => Promise<Array<Row | undefined>>
  /** How many queries of one group may be in flight at once; asks beyond wait for the next batch. */
  maxInFlight: number
  /**
   * A query in flight longer than this (a batch of cold rows, a slow disk) lets one more go out,
   * up to `maxStalledInFlight`, so one slow batch never holds every lookup behind it.
   */
  stallMs: number
  maxStalledInFlight: number
  /** The most keys one query takes. */
  maxBatch: number
}

interface Ask<Key, Row> {
  key: Key
  /** Whether the client that asked has gone (client-presence.ts): its key is then not looked up. */
  clientHasGone: () => boolean
  resolve: (row: Row | undefined) => void
  reject: (error: unknown) => void
}

interface Group<Query, Key, Row> {
  query: Query
  waiting: Array<Ask<Key, Row>>
  inFlight: number
  /** When the newest query in flight went out (performance.now()). */
  lastSentAt: number
}

export interface LookupBatches<Query, Key, Row> {
  /**
   * Looks `key` up with `query` (what the rows hold: audience, fields), in a query of its own or
   * with other keys asked for at the same time; `group` names the query, equal for equal ones.
   */
  load: (group: string, query: Query, key: Key) => Promise<Row | undefined>
  /** Queries sent and keys they looked up, for /metrics. */
  readonly stats: { queries: number, keys: number }
}

export function lookupBatches<Query, Key, Row> (options: LookupBatchOptions<Query, Key, Row>): LookupBatches<Query, Key, Row> {
  const groups = new Map<string, Group<Query, Key, Row>>()
  const stats = { queries: 0, keys: 0 }

  async function send (query: Query, asks: Array<Ask<Key, Row>>): Promise<void> {
    stats.queries++
    stats.keys += asks.length
    try {
      const rows = await options.fetch(query, asks.map((ask) => ask.key))
      asks.forEach((ask, index) => ask.resolve(rows[index]))
    } catch (error) {
      if (asks.length === 1 || error instanceof ClientGoneError) return asks.forEach((ask) => ask.reject(error))
      // One key's failure (a timeout, a value the database refused) is not its neighbours':
      // each is asked again alone and gets its own answer.
      await Promise.all(asks.map(async (ask) => send(query, [ask])))
    }
  }

  /** The asks whose clients still wait; the others end as their clients did, with nothing looked up. */
  function stillWanted (asks: Array<Ask<Key, Row>>): Array<Ask<Key, Row>> {
    return asks.filter((ask) => {
      if (!ask.clientHasGone()) return true
      ask.reject(new ClientGoneError())
      return false
    })
  }

  function lanes (group: Group<Query, Key, Row>): number {
    if (group.inFlight < options.maxInFlight) return options.maxInFlight
    return performance.now() - group.lastSentAt > options.stallMs ? options.maxStalledInFlight : options.maxInFlight
  }

  function dispatch (name: string, group: Group<Query, Key, Row>): void {
    while (group.waiting.length > 0 && group.inFlight < lanes(group)) {
      const asks = stillWanted(group.waiting.splice(0, options.maxBatch))
      if (asks.length === 0) continue
      group.inFlight++
      group.lastSentAt = performance.now()
      // Sent for every client in the batch, not for whichever one's ask set it off (that one may
      // go while the others wait): spared only if they all go before it has a connection.
      void onBehalfOfEach(asks.map((ask) => ask.clientHasGone), () => send(group.query, asks)).finally(() => {
        group.inFlight--
        if (group.inFlight === 0 && group.waiting.length === 0) groups.delete(name)
        else dispatch(name, group)
      })
    }
  }

  return {
    stats,
    load: (name, query, key) => new Promise<Row | undefined>((resolve, reject) => {
      let group = groups.get(name)
      if (group === undefined) groups.set(name, group = { query, waiting: [], inFlight: 0, lastSentAt: 0 })
      group.waiting.push({ key, clientHasGone: presenceOfThisClient(), resolve, reject })
      dispatch(name, group)
    })
  }
}
