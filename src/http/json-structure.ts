// Two things JSON.parse accepts and a write body must not hold, found in one pass over the text
// before it is parsed:
// - A key named twice in one object. What that means is up to the reader: JSON.parse (and so
//   this API) keeps the last value, other parsers the first, some refuse (RFC 8259 4 leaves it
//   open). A body like {"status":"draft","status":"published"} then says one thing to a proxy,
//   an audit log or an editor's tool that read it before us, and another to us. I-JSON (RFC 7493
//   2.3) forbids such names; so do we.
// - Nesting deeper than any body of this API goes. JSON.parse took 1.0-1.8 s over a 4 MiB body
//   of `[[[[...` (measured), all of it on the one thread every request waits on.
// The scan follows quotes, brackets and commas only, skipping each string with indexOf, so a body
// of long texts costs little more than its keys; it stops at the first problem. On text that is
// not JSON it stops or goes on harmlessly: JSON.parse then says what is wrong with it.

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const COMMA = 0x2c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d

export type JsonPath = Array<string | number>
export type JsonStructureProblem = { problem: 'duplicate_key', key: string, path: JsonPath } | { problem: 'too_deep', path: JsonPath }

/** An object or array being read: the keys it has (objects), and the key or index being read in it. */
interface Frame { keys: Set<string> | undefined, at: string | number }

/** Where the string opening at `start` closes (the next quote after an even run of backslashes), or -1. */
function closingQuote (text: string, start: number): number {
  for (let from = start + 1; ;) {
    const quote = text.indexOf('"', from)
    if (quote === -1) return -1
    let backslashes = 0
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return quote
    from = quote + 1
  }
}

function isSpace (code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09
}

/** A string's value: most keys hold no escape and are their own text; `undefined` for an escape JSON does not have. */
function decoded (text: string, start: number, end: number): string | undefined {
  const raw = text.slice(start + 1, end)
  if (!raw.includes('\\')) return raw
  try {
    return JSON.parse(text.slice(start, end + 1)) as string
  } catch {
    return undefined
  }
}

/**
 * The first key some object of `json` names twice (compared as decoded: "title" and
 * "\u0074itle" are one key), or the first place it nests deeper than `maxDepth`, with the path
 * to it; undefined when neither, or when the text is not JSON in a way the scan cannot follow.
 */
export function jsonStructureProblem (json: string, maxDepth: number): JsonStructureProblem | undefined {
  const frames: Frame[] = []
  const pathTo = (last?: string) => [...frames.slice(0, last === undefined ? frames.length : -1).map((frame) => frame.at), ...(last === undefined ? [] : [last])]
  for (let i = 0; i < json.length; i++) {
    const code = json.charCodeAt(i)
    if (code === QUOTE) {
      const end = closingQuote(json, i)
      if (end === -1) return undefined
      const frame = frames.at(-1)
      let after = end + 1
      while (isSpace(json.charCodeAt(after))) after++
      if (frame?.keys !== undefined && json.charCodeAt(after) === COLON) {
        const key = decoded(json, i, end)
        if (key === undefined) return undefined
        if (frame.keys.has(key)) return { problem: 'duplicate_key', key, path: pathTo(key) }
        frame.keys.add(key)
        frame.at = key
      }
      i = end
    } else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
      if (frames.length === maxDepth) return { problem: 'too_deep', path: pathTo() }
      frames.push(code === OPEN_OBJECT ? { keys: new Set(), at: '' } : { keys: undefined, at: 0 })
    } else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) {
      frames.pop()
    } else if (code === COMMA) {
      const frame = frames.at(-1)
      if (frame !== undefined && frame.keys === undefined) frame.at = (frame.at as number) + 1
    }
  }
  return undefined
}
