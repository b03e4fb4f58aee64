import t from 'tap'
import { FrequencySketch } from '../../src/http/frequency-sketch.ts'

const key = (i: number) => `https://api.test/v1/blogs/desk/posts/story-${i}\n\nidentity`

t.test('counts each key\'s lookups up to 15, never fewer than there were', async (t) => {
  const sketch = new FrequencySketch(4_096)
  // 2,000 keys, key i asked for i % 20 times: some collisions in a row of 4,096 counters, but a
  // key's estimate is the least of its four counters, and a collision can only add.
  for (let i = 0; i < 2_000; i++) for (let n = 0; n < i % 20; n++) sketch.increment(key(i))
  let exact = 0
  for (let i = 0; i < 2_000; i++) {
    const truth = Math.min(i % 20, 15)
    const estimate = sketch.frequency(key(i))
    if (estimate < truth) t.fail(`key ${i}: ${estimate} for ${truth}`)
    if (estimate === truth) exact++
  }
  t.ok(exact / 2_000 > 0.95, `${exact} of 2,000 exact`)
  t.equal(sketch.frequency('never asked for'), 0)
  t.equal(sketch.frequency(key(19)), 15, 'a key asked for 19 times counts 15')
})

t.test('every ten times as many counted lookups as the keys it is sized for, all counts are halved', async (t) => {
  const sketch = new FrequencySketch(1_024)
  for (let n = 0; n < 15; n++) sketch.increment('was hot')
  t.equal(sketch.frequency('was hot'), 15)
  // 1,000 other keys asked for in turn: a sketch for 1,024 keys halves every 10,240 lookups.
  let lookups = 15
  while (sketch.frequency('was hot') === 15 && lookups < 20_000) sketch.increment(key(lookups++ % 1_000))
  t.ok(lookups >= 10_240 && lookups < 10_240 + 2_000, `halved after ${lookups} lookups`)
  t.equal(sketch.frequency('was hot'), 7, '15 halved')
  // Three samples later the key nobody asks for any more counts less than the ones still asked
  // for: a page hot yesterday does not keep its place.
  for (let n = 0; n < 3 * 10_240; n++) sketch.increment(key(n % 1_000))
  const stillAskedFor = Array.from({ length: 1_000 }, (_, i) => sketch.frequency(key(i)))
  t.ok(sketch.frequency('was hot') < Math.min(...stillAskedFor), `was hot: ${sketch.frequency('was hot')}; still asked for: ${Math.min(...stillAskedFor)} and up`)
})

t.test('a small cache\'s sketch tells a key asked for once more from many others', async (t) => {
  // A 30 KB cache holds some eight entries, but the keys it is asked for are many more: 200 pages
  // asked for twice each, and one asked for three times, the newcomer that should be admitted in
  // place of any of them. With a row as narrow as the cache (64 counters) their counts piled up
  // in every row and the newcomer was outranked by chance (the response cache's tests, once in 20).
  const sketch = new FrequencySketch(8)
  for (let i = 0; i < 200; i++) { sketch.increment(key(i)); sketch.increment(key(i)) }
  for (let n = 0; n < 3; n++) sketch.increment('newcomer')
  const outranking = Array.from({ length: 200 }, (_, i) => i).filter((i) => sketch.frequency(key(i)) >= sketch.frequency('newcomer'))
  t.same(outranking, [], 'no page asked for twice counts as much as the newcomer')
  // Its counts still age at the pace of its size: halved every ten times its 64 sized-for keys.
  const aging = new FrequencySketch(8)
  for (let n = 0; n < 3; n++) aging.increment('newcomer')
  for (let n = 3; n < 639; n++) aging.increment(`later-${n}`)
  t.equal(aging.frequency('newcomer'), 3, 'not yet after 639 lookups')
  aging.increment('later')
  t.equal(aging.frequency('newcomer'), 1, 'halved at the 640th: 3 became 1')
})
