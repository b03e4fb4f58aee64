import type { FastifyReply, FastifyRequest } from 'fastify'
import { badRequest, type InvalidParam } from './errors.ts'

// Everything a client writes may later reach an XML feed, and XML 1.0 cannot carry some
// characters at all: C0 controls other than tab, newline and carriage return, lone surrogates,
// and the noncharacters U+FFFE and U+FFFF. They are refused on write, naming each field, so
// that stored text always fits every format.

// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

function codePointName (text: string): string {
  const match = new RegExp(XML_INVALID.source).exec(text)
  return `U+${(match?.[0].charCodeAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
}

/** The path of every string in `body` that XML cannot carry; iterative, so any nesting depth is safe. */
function unstorable (body: unknown): InvalidParam[] {
  const found: InvalidParam[] = []
  const pending: Array<[unknown, string]> = [[body, 'body']]
  const invalid = new RegExp(XML_INVALID.source)
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [value, path] = next
    if (typeof value === 'string') {
      if (invalid.test(value)) found.push({ path, message: `contains ${codePointName(value)}, a character XML cannot carry` })
    } else if (typeof value === 'object' && value !== null) {
      const entries = Array.isArray(value) ? value.map((item, index) => [String(index), item] as const) : Object.entries(value)
      for (let i = entries.length - 1; i >= 0; i--) pending.push([entries[i]![1], `${path}.${entries[i]![0]}`])
    }
  }
  return found
}

/**
 * A preValidation hook: a body holding such characters is a 400 naming each field, before
 * anything runs. Callback-style: it runs on every request, reads without a body among them, and
 * an async hook costs a promise and a turn of the microtask queue each time.
 */
export function refuseUnstorableText (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
  if (request.body === undefined || request.body === null) return done()
  const found = unstorable(request.body)
  if (found.length > 0) {
    return done(badRequest('invalid_characters', `The request holds characters that cannot be stored: ${found.map((f) => f.path).join(', ')}.`, found))
  }
  done()
}
