/**
 * Two 32-bit hashes of a string for double hashing (Kirsch and Mitzenmacher: probe i at h1 + i·h2):
 * FNV-1a over its UTF-16 code units, and that hash through MurmurHash3's finalizer (made odd, so
 * the probes never coincide). The response cache's admission tests (doorkeeper.ts,
 * frequency-sketch.ts) hash its keys with it.
 */
export function keyHashes (key: string): [number, number] {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  let g = h ^ (h >>> 16)
  g = Math.imul(g, 0x85ebca6b)
  g ^= g >>> 13
  g = Math.imul(g, 0xc2b2ae35)
  g ^= g >>> 16
  return [h >>> 0, (g | 1) >>> 0]
}
