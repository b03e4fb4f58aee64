import t from 'tap'
import { Doorkeeper } from '../../src/http/doorkeeper.ts'

t.test('a key is new the first time and seen from the second', async (t) => {
  const doorkeeper = new Doorkeeper(1_000)
  const key = 'https://api.test/v1/blogs/desk/posts/storm\n\nidentity'
  t.equal(doorkeeper.seen(key), false)
  t.equal(doorkeeper.seen(key), true)
  t.equal(doorkeeper.seen(key), true)
  t.equal(doorkeeper.seen(`${key}x`), false, 'a key one character longer is another key')
  t.equal(doorkeeper.seen(key.replace('desk', 'dusk')), false, 'so is one with a character changed')
})

t.test('a key is remembered for at least one window of other keys and forgotten after two', async (t) => {
  const window = 2_000
  const doorkeeper = new Doorkeeper(window)
  doorkeeper.seen('remembered')
  // Others up to one window: the key is in the newer filter, or in the older after a rotation.
  for (let i = 0; i < window - 1; i++) doorkeeper.seen(`other ${i}`)
  t.equal(doorkeeper.seen('remembered'), true, 'within one window')
  const again = new Doorkeeper(window)
  again.seen('forgotten')
  // A window counts keys added: the few taken for seen ones (false positives) do not count, so
  // two windows take a little more than twice as many other keys.
  for (let i = 0; i < 2.2 * window; i++) again.seen(`other ${i}`)
  t.equal(again.seen('forgotten'), false, 'two windows later')
})

t.test('keys never asked for are seldom taken for seen ones, with a full window in memory', async (t) => {
  const window = 20_000
  const doorkeeper = new Doorkeeper(window)
  for (let i = 0; i < window - 1; i++) doorkeeper.seen(`/v1/blogs/blog-${i % 50}/posts/post-${i}`)
  let falsePositives = 0
  const probes = 20_000
  for (let i = 0; i < probes; i++) if (doorkeeper.seen(`/v1/blogs/blog-${i % 50}/posts/never-${i}`)) falsePositives++
  // 8 bits a key and three probes: about 3 % in theory; the probes themselves fill the filters
  // further (they are remembered too), and rotate the newer one into the older.
  t.ok(falsePositives / probes < 0.08, `${(100 * falsePositives / probes).toFixed(2)} % taken for seen`)
})

t.test('every key of a window is remembered, whatever its characters', async (t) => {
  const doorkeeper = new Doorkeeper(5_000)
  const keys = Array.from({ length: 4_000 }, (_, i) => `/v1/posts?q=${String.fromCodePoint(0x4e00 + i)}${i}&tag=تاريخ`)
  for (const key of keys) doorkeeper.seen(key)
  t.equal(keys.filter((key) => !doorkeeper.seen(key)).length, 0, 'no false negatives')
})
