// SQLSTATE classes and driver errors that mean "the database is not there" rather than "this
// query is wrong": connection exceptions (08), operator intervention such as a shutdown or a
// terminated backend (57P0x), an unknown database (3D000), too many connections (53300), a
// database not accepting connections (55000).
const UNAVAILABLE_SQLSTATES = /^(08...|57P0[1-4]|3D000|53300|55000)$/
const UNAVAILABLE_SOCKET_CODES = /^E(CONNREFUSED|CONNRESET|TIMEDOUT|HOSTUNREACH)$/
const UNAVAILABLE_MESSAGES = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection terminated|is not queryable|not currently accepting connections|timeout exceeded when trying to connect|Cannot use a pool after calling end|PGlite is clos|PGlite instance is already closed|database did not answer/

/** Is this the database being away (answer 503 and retry later), not a fault of the query? */
export function isDatabaseUnavailableError (error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { code, message } = error as { code?: unknown, message?: unknown }
  return (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.test(code) || UNAVAILABLE_SOCKET_CODES.test(code))) ||
    (typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message))
}
