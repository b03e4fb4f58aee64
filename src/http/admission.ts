import { Doorkeeper } from './doorkeeper.ts'
import { FrequencySketch } from './frequency-sketch.ts'

// Which computed responses the response cache stores (response-cache.ts). Behind a CDN most
// article pages that reach the origin are asked for once in a long while, and storing one costs
// a copy, an index update and the eviction of another entry, often one read more often.
//
// With RESPONSE_CACHE_MIN_USES=2 (the default) a response is stored the second time its key
// misses within the doorkeeper's window (doorkeeper.ts), and once the cache is full only when its
// key was asked for more often lately than the least recently used entry, the one it would push
// out (frequency-sketch.ts): TinyLFU, a doorkeeper in front of a frequency sketch. In the
// long tail's steady state (Zipf 1.0 over 1,000,000 posts, 64 MB) the cache stored a sixth to a
// ninth as many responses as at the second miss alone, kept more hits (73-74 % against 62-67 %),
// and the API spent a quarter less CPU a request (the README's Performance section). The price:
// after traffic moves to pages never seen, newcomers wait until the old pages' counts fade or
// their entries expire. With RESPONSE_CACHE_MIN_USES=1 every response is stored (plain LRU).

export type AdmissionDecision = 'admitted' | 'declined' | 'outranked'

export interface AdmissionPolicy {
  /** Counts a lookup of `key`, hit or miss. */
  record: (key: string) => void
  /**
   * Whether the response under `key`, just computed on a miss, is stored: `victim` is the key of
   * the entry storing it would push out, undefined while the cache has room. Declined: the key's
   * first miss; outranked: the victim is asked for as often or more.
   */
  decide: (key: string, victim: string | undefined) => AdmissionDecision
}

/** Stores every response. */
const storeAll: AdmissionPolicy = { record: () => {}, decide: () => 'admitted' }

/**
 * The policy for a cache of `maxBytes`: the doorkeeper remembers some ten times as many keys as
 * the cache holds entries (a few KB each), the sketch has as many counters a row as there are
 * entries (at least 4,096) and halves its counts every ten times as many lookups as there are
 * entries (as Caffeine sizes its own).
 */
export function admissionPolicy (minUses: number, maxBytes: number): AdmissionPolicy {
  if (minUses === 1) return storeAll
  const doorkeeper = new Doorkeeper(maxBytes / 256)
  const frequencies = new FrequencySketch(maxBytes / 4096)
  return {
    record: (key) => { frequencies.increment(key) },
    decide (key, victim) {
      if (!doorkeeper.seen(key)) return 'declined'
      if (victim === undefined) return 'admitted'
      return frequencies.frequency(key) > frequencies.frequency(victim) ? 'admitted' : 'outranked'
    }
  }
}
