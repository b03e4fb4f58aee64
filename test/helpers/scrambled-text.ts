// Long texts for the search index's worst cases, the same for every run.

/** Deterministic text from an alphabet, so runs hold many distinct pieces (a worst case for the index). */
export function scramble (alphabet: string[], length: number, seed = 1): string {
  let state = seed >>> 0
  let out = ''
  while (out.length < length) {
    // xorshift32: unlike a small LCG's low bits, it does not repeat within a body.
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    const next = alphabet[state % alphabet.length] as string
    if (out.length + next.length > length) break
    out += next
  }
  return out
}
