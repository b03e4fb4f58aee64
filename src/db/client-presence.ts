import { AsyncLocalStorage } from 'node:async_hooks'
import type { DatabaseConnection, Dialect, Driver } from 'kysely'

// A read for a client that has gone is not started. Under overload requests wait for a pool
// connection (or the embedded database's one), and clients give up: a browser navigates away, a
// CDN's origin timeout fires, a mobile client retries. PostgreSQL would still run every query
// of every abandoned request as its turn came, and with the queue longer than the clients'
// patience the API would spend its capacity on answers nobody reads while those who still
// wait time out in turn (goodput falling as load rises). So a public read runs on behalf of its
// client (http/client-presence.ts), and a connection is not handed to it once its client has
// gone: the request ends there, without its queries. The check is made as the connection is
// handed over, after any wait, and costs nothing else.
//
// Work several clients share is done on behalf of them all (onBehalfOfEach): a lookup batch is
// spared when every client in it has gone, not when the one whose ask sent it has.

const clients = new AsyncLocalStorage<() => boolean>()

interface Runtime { version: string, storeUsesPromiseHooks: boolean }

// Node's AsyncLocalStorage built on async_hooks has a `_propagate` method (Node 20; 22 and 23
// without the flag below; 24 with --no-async-context-frame); the one built on AsyncContextFrame
// does not. Node offers no other way to ask which is in use, and NODE_OPTIONS can choose it.
const thisRuntime = (): Runtime => ({
  version: process.versions.node,
  storeUsesPromiseHooks: typeof (AsyncLocalStorage.prototype as unknown as { _propagate?: unknown })._propagate === 'function'
})

/**
 * What to tell an operator whose Node keeps AsyncLocalStorage with promise hooks: Node 24 carries
 * the store in AsyncContextFrame, Node 22 and 23 only with --experimental-async-context-frame,
 * older ones never. With hooks, every promise the process makes pays once the first read has
 * entered the store: an uncached `/v1/posts` page cost about a quarter more API CPU on Node 22
 * (README, Production). Undefined where there is nothing to say.
 */
export function asyncContextAdvice (runtime: Runtime = thisRuntime()): string | undefined {
  if (!runtime.storeUsesPromiseHooks) return undefined
  const major = Number(runtime.version.split('.')[0])
  const remedy = major === 22 || major === 23 ? 'start it with NODE_OPTIONS=--experimental-async-context-frame, or run Node 24' : major >= 24 ? 'leave out --no-async-context-frame' : 'run Node 24'
  return `Node ${runtime.version} keeps AsyncLocalStorage with promise hooks, which cost every uncached read about a quarter more CPU: ${remedy} (README, Production)`
}

/** The client this work was for has gone: no connection was taken, no query ran. */
export class ClientGoneError extends Error {
  readonly code = 'ECLIENTGONE'
  constructor () {
    super('the client went away before the database was reached')
    this.name = 'ClientGoneError'
  }
}

/** Runs `next`, and everything it starts, on behalf of a client; `isGone` says whether it has left. */
export function onBehalfOf (isGone: () => boolean, next: () => void): void {
  clients.run(isGone, next)
}

/**
 * Runs `work` (and what it starts) on behalf of several clients, whose presences were taken with
 * presenceOfThisClient: spared only once every one of them has gone.
 */
export function onBehalfOfEach<T> (presences: ReadonlyArray<() => boolean>, work: () => T): T {
  return clients.run(() => presences.every((isGone) => isGone()), work)
}

const NO_CLIENT = (): boolean => false

/** Whether the client the current work is for (if any) has gone. */
export function clientHasGone (): boolean {
  const isGone = clients.getStore()
  return isGone !== undefined && isGone()
}

/** How to ask later whether the client the current work is for has gone (never, for work for no client). */
export function presenceOfThisClient (): () => boolean {
  return clients.getStore() ?? NO_CLIENT
}

/** `dialect`, with connections not handed to work whose client has gone (ClientGoneError instead). */
export function sparingGoneClients (dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => sparing(dialect.createDriver()),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler()
  }
}

/**
 * A connection handed to work whose client has gone: its statements fail with ClientGoneError.
 * Kysely releases it as any other (an embedded database's one connection is behind a lock of
 * Kysely's that only a release gives back), and the real connection goes back to its pool.
 */
function standInFor (connection: DatabaseConnection | undefined): DatabaseConnection {
  readsSpared.count++
  const standIn: DatabaseConnection = {
    executeQuery: async () => { throw new ClientGoneError() },
    // eslint-disable-next-line require-yield -- a stream that fails before its first row
    async * streamQuery () { throw new ClientGoneError() }
  }
  standIns.set(standIn, connection)
  return standIn
}

const standIns = new WeakMap<DatabaseConnection, DatabaseConnection | undefined>()

/** Connections not handed over because their client had gone, since the process started (/metrics). */
export const readsSpared = { count: 0 }

function sparing (driver: Driver): Driver {
  const spared: Driver = {
    init: (options) => driver.init(options),
    async acquireConnection (options) {
      // Gone before it asked: it does not wait for a connection at all.
      if (clientHasGone()) return standInFor(undefined)
      const connection = await driver.acquireConnection(options)
      return clientHasGone() ? standInFor(connection) : connection
    },
    async beginTransaction (connection, settings) {
      if (standIns.has(connection)) throw new ClientGoneError()
      await driver.beginTransaction(connection, settings)
    },
    commitTransaction: (connection) => driver.commitTransaction(connection),
    async rollbackTransaction (connection) {
      if (!standIns.has(connection)) await driver.rollbackTransaction(connection)
    },
    async releaseConnection (connection, options) {
      if (!standIns.has(connection)) return driver.releaseConnection(connection, options)
      const real = standIns.get(connection)
      standIns.delete(connection)
      if (real !== undefined) await driver.releaseConnection(real, options)
    },
    destroy: (options) => driver.destroy(options)
  }
  // Optional in Kysely's Driver: forwarded only where the dialect has them.
  if (driver.savepoint !== undefined) spared.savepoint = driver.savepoint.bind(driver)
  if (driver.rollbackToSavepoint !== undefined) spared.rollbackToSavepoint = driver.rollbackToSavepoint.bind(driver)
  if (driver.releaseSavepoint !== undefined) spared.releaseSavepoint = driver.releaseSavepoint.bind(driver)
  return spared
}
