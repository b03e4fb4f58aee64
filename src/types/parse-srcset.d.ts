// parse-srcset ships no types: its one function, as sanitize-html (which depends on it) uses it.
declare module 'parse-srcset' {
  /** The image candidates of a srcset attribute, by HTML's parsing rules; invalid candidates are left out. */
  export default function parseSrcset (input: string): Array<{ url: string, w?: number, h?: number, d?: number }>
}
