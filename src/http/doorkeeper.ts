import { keyHashes } from './key-hashes.ts'

// Which keys were asked for recently, in constant memory: the response cache's first admission
// test (admission.ts). Behind a CDN most article pages that reach the origin are asked for once
// in a long while; storing each of them (copying it, indexing its tags, evicting another
// entry for it) costs more than it ever saves, and pushes out pages that are asked for again.
// So a response is stored the second time its key misses within the window, as nginx's
// proxy_cache_min_uses and the CDNs' "cache on second hit" do, and as TinyLFU's doorkeeper
// does in front of its frequency sketch.
//
// Two Bloom filters, each remembering up to `window` keys: the newer takes every key; when it
// is full, it becomes the older and a new empty one takes its place, so a key is remembered for
// between one and two windows of other keys. A false positive (about 3 % at 8 bits a key and
// three probes) only admits a response one request early.

const PROBES = 3
const BITS_PER_KEY = 8

export class Doorkeeper {
  readonly #window: number
  readonly #mask: number
  #newer: Uint8Array
  #older: Uint8Array
  #inNewer = 0

  constructor (window: number) {
    this.#window = Math.max(1, Math.floor(window))
    // A power of two of bits, so a probe's bit is a mask away.
    let bits = 1024
    while (bits < this.#window * BITS_PER_KEY && bits < 2 ** 30) bits *= 2
    this.#mask = bits - 1
    this.#newer = new Uint8Array(bits / 8)
    this.#older = new Uint8Array(bits / 8)
  }

  /** Whether `key` was seen within the window; it is remembered from now on either way. */
  seen (key: string): boolean {
    const [h1, h2] = keyHashes(key)
    let inNewer = true
    let inOlder = true
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + i * h2) & this.#mask
      const byte = bit >>> 3
      const flag = 1 << (bit & 7)
      if ((this.#newer[byte]! & flag) === 0) {
        inNewer = false
        this.#newer[byte] = this.#newer[byte]! | flag
      }
      if ((this.#older[byte]! & flag) === 0) inOlder = false
    }
    if (!inNewer && ++this.#inNewer >= this.#window) this.#rotate()
    return inNewer || inOlder
  }

  #rotate (): void {
    const emptied = this.#older
    emptied.fill(0)
    this.#older = this.#newer
    this.#newer = emptied
    this.#inNewer = 0
  }
}
