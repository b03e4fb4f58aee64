import { LRUCache } from 'lru-cache'
import t from 'tap'
import { admissionPolicy, type AdmissionPolicy } from '../../src/http/admission.ts'
import { Doorkeeper } from '../../src/http/doorkeeper.ts'

const MB = 1024 * 1024

t.test('RESPONSE_CACHE_MIN_USES=1 stores every response', async (t) => {
  const policy = admissionPolicy(1, 64 * MB)
  policy.record('a')
  t.equal(policy.decide('a', undefined), 'admitted')
  t.equal(policy.decide('b', 'a'), 'admitted', 'even when it pushes another out')
})

t.test('the default stores at the second miss, and once full only what is asked for more than what it pushes out', async (t) => {
  const policy = admissionPolicy(2, 64 * MB)
  const ask = (key: string, times: number) => { for (let i = 0; i < times; i++) policy.record(key) }
  ask('first', 1)
  t.equal(policy.decide('first', undefined), 'declined', 'first miss')
  ask('first', 1)
  t.equal(policy.decide('first', undefined), 'admitted', 'second miss, with room')
  ask('read often', 5)
  ask('read twice', 2)
  t.equal(policy.decide('read twice', undefined), 'declined', 'its first miss (a hit is no miss)')
  t.equal(policy.decide('read twice', 'read often'), 'outranked', 'would push out one read more often')
  ask('read thrice', 3)
  t.equal(policy.decide('read thrice', undefined), 'declined')
  t.equal(policy.decide('read thrice', 'read twice'), 'admitted', 'pushes out one read less often')
  t.equal(policy.decide('read thrice', 'read thrice'), 'outranked', 'as often is not enough')
})

/** A seeded stream of keys `key-r`, rank r drawn with probability proportional to 1/r (Zipf 1.0). */
function zipfStream (keys: number, seed: number): () => string {
  const cumulative = new Float64Array(keys)
  let total = 0
  for (let r = 0; r < keys; r++) cumulative[r] = total += 1 / (r + 1)
  let state = seed >>> 0
  return () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0
    let x = Math.imul(state ^ (state >>> 15), state | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    const target = (((x ^ (x >>> 14)) >>> 0) / 2 ** 32) * total
    let low = 0
    let high = keys - 1
    while (low < high) {
      const mid = (low + high) >>> 1
      if (cumulative[mid]! < target) low = mid + 1
      else high = mid
    }
    return `https://api.test/v1/blogs/desk/posts/story-${low}\n\nidentity`
  }
}

/** Hit rate and stores of an LRU cache of `entries` under `policy`, over a Zipf stream. */
function simulate (policy: AdmissionPolicy, entries: number): { hitRate: number, stores: number } {
  const next = zipfStream(200_000, 20261204)
  const cache = new LRUCache<string, true>({ max: entries })
  let hits = 0
  let stores = 0
  const lookups = 400_000
  for (let i = 0; i < lookups; i++) {
    const key = next()
    policy.record(key)
    if (cache.get(key) !== undefined) { hits++; continue }
    const victim = cache.size < entries ? undefined : cache.rkeys().next().value as string
    if (policy.decide(key, victim) === 'admitted') { cache.set(key, true); stores++ }
  }
  return { hitRate: hits / lookups, stores }
}

t.test('under a long tail it keeps more hits than storing at the second miss alone, and stores far less', async (t) => {
  // The cache's entries, as the default 64 MB holds some 16,000 of the benchmark's post pages.
  const entries = 4_000
  const maxBytes = entries * 4096
  const storeAll = simulate(admissionPolicy(1, maxBytes), entries)
  const doorkeeper = new Doorkeeper(maxBytes / 256)
  const secondMiss = simulate({ record: () => {}, decide: (key) => doorkeeper.seen(key) ? 'admitted' : 'declined' }, entries)
  const tinyLfu = simulate(admissionPolicy(2, maxBytes), entries)
  // What a cache that always held the most frequent keys would hit: H(entries) / H(keys).
  const harmonic = (n: number) => { let h = 0; for (let i = 1; i <= n; i++) h += 1 / i; return h }
  const ideal = harmonic(entries) / harmonic(200_000)
  const report = (name: string, r: { hitRate: number, stores: number }) => `${name} ${(100 * r.hitRate).toFixed(1)} % hits, ${r.stores} stores`
  t.comment([report('store all:', storeAll), report('second miss:', secondMiss), report('TinyLFU:', tinyLfu), `ideal ${(100 * ideal).toFixed(1)} %`].join('; '))
  t.ok(tinyLfu.hitRate > secondMiss.hitRate + 0.03, 'more hits than at the second miss alone')
  t.ok(secondMiss.hitRate > storeAll.hitRate, 'which has more than storing everything')
  t.ok(tinyLfu.hitRate > ideal - 0.06, 'within a few points of the ideal')
  t.ok(tinyLfu.stores < secondMiss.stores / 3, 'storing a third as many responses or fewer')
})
