import { keyHashes } from './key-hashes.ts'

// How often each key was asked for lately, approximately, in constant memory: the response
// cache's second admission test (admission.ts). Once the cache is full, storing a response
// pushes out the least recently used entry; under a long tail that entry is often read more than
// the newcomer, an old article asked for twice this hour, and storing the newcomer costs a copy
// and an index update for an entry that is evicted before anyone asks for it again. So a
// newcomer takes the room only when it is asked for more often than the entry it would evict:
// TinyLFU (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient Cache Admission Policy",
// 2017), as Caffeine and Ristretto use it in front of their caches.
//
// A count-min sketch: four rows of counters, each key counted in one counter a row, its
// frequency the smallest of its four (a collision can only add to a counter, so an estimate is
// never below the true count). Counters stop at 15, what telling a hot key from a cold one needs.
// Every `sampleSize` counted lookups all counters are halved, so the counts are of the recent past
// and a page that was hot yesterday does not hold its place forever.

const ROWS = 4
const MAX_COUNT = 15
const MIN_WIDTH = 4_096

export class FrequencySketch {
  readonly #width: number
  readonly #counters: Uint8Array
  readonly #sampleSize: number
  #additions = 0

  /** Sized for `keys` distinct keys in play at a time (the cache's entries, roughly). */
  constructor (keys: number) {
    let entries = 64
    while (entries < keys && entries < 2 ** 24) entries *= 2
    // Counts age with the cache's size: halved every ten times as many lookups as it holds entries.
    this.#sampleSize = 10 * entries
    // But a row never has fewer than MIN_WIDTH counters. The keys in play are many more than a
    // small cache's entries, and in a row of 64 counters (a 30 KB cache) 40 pages asked for twice
    // each made a page asked for twice look like one asked for four times, in all four rows, once
    // in 20 runs of 40 random pages (the response cache's tests caught it): the newcomer asked for
    // more was then outranked by chance (5.4 % of 20,000 simulated runs). With 16 KB of counters, none
    // of 100,000.
    this.#width = Math.max(entries, MIN_WIDTH)
    this.#counters = new Uint8Array(ROWS * this.#width)
  }

  /** Counts one lookup of `key`. */
  increment (key: string): void {
    const [h1, h2] = keyHashes(key)
    let added = false
    for (let row = 0; row < ROWS; row++) {
      const at = this.#slot(row, h1, h2)
      if (this.#counters[at]! < MAX_COUNT) {
        this.#counters[at] = this.#counters[at]! + 1
        added = true
      }
    }
    if (added && ++this.#additions >= this.#sampleSize) this.#halve()
  }

  /** About how many times `key` was counted lately, at most 15; never fewer than it was. */
  frequency (key: string): number {
    const [h1, h2] = keyHashes(key)
    let least = MAX_COUNT
    for (let row = 0; row < ROWS; row++) least = Math.min(least, this.#counters[this.#slot(row, h1, h2)]!)
    return least
  }

  /** Row `row`'s counter for a key: a probe of its own in each row (width is a power of two). */
  #slot (row: number, h1: number, h2: number): number {
    return row * this.#width + ((h1 + Math.imul(row, h2)) & (this.#width - 1))
  }

  #halve (): void {
    for (let i = 0; i < this.#counters.length; i++) this.#counters[i] = this.#counters[i]! >>> 1
    this.#additions = Math.floor(this.#additions / 2)
  }
}
