// What a request header's value works out to (the feed format an Accept picks, the coding an
// Accept-Encoding picks, the base URL a Host makes), kept for the values clients really send:
// they send few distinct ones, and working one out again on every request shows in a cached
// response's CPU. A client that forges values gets them worked out each time and not kept: at
// most `maxEntries` are kept, for good, and none longer than any real header (kept at any length,
// a thousand distinct 15 KB Accept-Encoding values, under Node's 16 KB header limit, held 14.8 MB
// of heap for good).

/** Longer values than this are worked out each time: real Accept headers are under 250 characters. */
export const MAX_REMEMBERED_LENGTH = 512

export class HeaderMemo<Value> {
  private readonly values = new Map<string, Value>()

  constructor (private readonly maxEntries: number) {}

  /** The value `header` works out to: kept from an earlier request, or from `workOut` (and kept). */
  valueOf (header: string, workOut: (header: string) => Value): Value {
    const kept = this.values.get(header)
    if (kept !== undefined || this.values.has(header)) return kept as Value
    const value = workOut(header)
    if (header.length <= MAX_REMEMBERED_LENGTH && this.values.size < this.maxEntries) this.values.set(header, value)
    return value
  }

  /** How many values are kept (for tests). */
  get size (): number {
    return this.values.size
  }
}
