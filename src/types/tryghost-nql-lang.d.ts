// @tryghost/nql-lang ships no types: the one function the Ghost layer uses.
declare module '@tryghost/nql-lang' {
  /** Parses an NQL filter into Mongo-style JSON ({ field: value }, { $and: [...] }, { field: { $in: [...] } }). Throws on a bad filter. */
  export function parse (input: string, options?: { preserveRelativeDates?: boolean }): Record<string, unknown>
}
