import t from 'tap'
import { LRUCache } from 'lru-cache'
import { boundedLru } from '../src/bounded-lru.ts'
import { gc } from './helpers/gc.ts'

const kept: unknown[] = []

/**
 * Heap bytes that each of what `make` returns holds, after full collections on either side: the
 * mean of `count`, made after three that are not counted. The first calls of a function also
 * leave its compiled code and feedback on the heap, some 240 KB here, and on a busy machine the
 * optimizing compiler finishes later, inside the measured span: ten at once once read 25.7 KB for
 * a cache of 1.9 KB. Hence the warm-up, and for the small ones a count that makes such noise
 * (240 KB / 200) small against the bound.
 */
function heapKeptBy (make: () => unknown, count: number): number {
  for (let warmUp = 0; warmUp < 3; warmUp++) kept.push(make())
  gc()
  const before = process.memoryUsage().heapUsed
  const made = Array.from({ length: count }, make)
  gc()
  const after = process.memoryUsage().heapUsed
  kept.push(made)
  return (after - before) / count
}

t.test('keeps at most `entries`, evicting the least recently used', async (t) => {
  const lru = boundedLru<string, number>({ entries: 3 })
  for (const key of ['a', 'b', 'c']) lru.set(key, key.charCodeAt(0))
  t.equal(lru.get('a'), 97, 'a is used, so b is now the least recently used')
  lru.set('d', 100)
  t.equal(lru.size, 3)
  t.equal(lru.has('b'), false, 'b went')
  t.same([...lru.keys()].sort(), ['a', 'c', 'd'])
  lru.set('d', 101)
  t.equal(lru.size, 3, 'setting a key again is not another entry')
})

t.test('forgets entries past their time to live', async (t) => {
  const lru = boundedLru<string, number>({ entries: 10, ttlMs: 20 })
  lru.set('a', 1)
  t.equal(lru.get('a'), 1)
  await new Promise((resolve) => setTimeout(resolve, 40))
  t.equal(lru.get('a'), undefined)
})

t.test('takes memory as it fills, where lru-cache given `max` takes it all when made', async (t) => {
  const preallocated = heapKeptBy(() => new LRUCache<string, number>({ max: 100_000, ttl: 60_000 }), 10)
  const bounded = heapKeptBy(() => boundedLru<string, number>({ entries: 100_000, ttlMs: 60_000 }), 200)
  t.ok(preallocated > 2_000_000, `lru-cache with max 100,000 and a TTL keeps ${preallocated} bytes empty (the case this helper avoids)`)
  t.ok(bounded < 20_000, `the bounded one keeps ${bounded} bytes empty`)
  const filled = heapKeptBy(() => {
    const lru = boundedLru<string, number>({ entries: 100_000 })
    for (let i = 0; i < 1_000; i++) lru.set(`key-${i}`, i)
    return lru
  }, 20)
  t.ok(filled < 500_000, `and ${filled} bytes with 1,000 entries`)
})
