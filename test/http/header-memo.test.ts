import t from 'tap'
import { HeaderMemo, MAX_REMEMBERED_LENGTH } from '../../src/http/header-memo.ts'
import { negotiateCoding } from '../../src/http/compression.ts'
import { negotiateFormat } from '../../src/syndication/feeds/feed-render.ts'

// Header values are kept with what they work out to, a bounded number of them, and none longer
// than a real header: a client forging long values cannot make a process hold them for good.

t.test('keeps what a value works out to, once, even when that is undefined', async (t) => {
  const memo = new HeaderMemo<string | undefined>(10)
  let calls = 0
  const workOut = (header: string) => { calls++; return header === 'none' ? undefined : header.toUpperCase() }
  t.equal(memo.valueOf('gzip', workOut), 'GZIP')
  t.equal(memo.valueOf('gzip', workOut), 'GZIP')
  t.equal(memo.valueOf('none', workOut), undefined)
  t.equal(memo.valueOf('none', workOut), undefined)
  t.equal(calls, 2, 'each value worked out once')
  t.equal(memo.size, 2)
})

t.test('keeps at most its bound, and no value longer than a real header', async (t) => {
  const memo = new HeaderMemo<number>(3)
  for (let i = 0; i < 10; i++) t.equal(memo.valueOf(`v${i}`, (h) => h.length), String(i).length + 1)
  t.equal(memo.size, 3, 'three kept, the rest worked out each time')

  const long = new HeaderMemo<number>(1000)
  let calls = 0
  const value = 'a/b;q=0.1, '.repeat(1500)
  for (let i = 0; i < 2; i++) t.equal(long.valueOf(value, (h) => { calls++; return h.length }), value.length)
  t.equal(calls, 2, 'a 16 KB value is worked out each time')
  t.equal(long.size, 0, 'and never kept')
  t.equal(long.valueOf('x'.repeat(MAX_REMEMBERED_LENGTH), (h) => h.length), MAX_REMEMBERED_LENGTH)
  t.equal(long.size, 1, 'a value at the limit is kept')
})

t.test('negotiation answers the same for a long header as for a short one', async (t) => {
  const padding = Array.from({ length: 600 }, (_, i) => `x-unknown/type-${i};q=0.001`).join(', ')
  t.equal(negotiateFormat(`application/atom+xml, ${padding}`), 'atom')
  t.equal(negotiateFormat(`application/atom+xml, ${padding}`), 'atom', 'asked again')
  t.equal(negotiateCoding(`br;q=0, gzip, ${Array.from({ length: 600 }, (_, i) => `x${i};q=0.001`).join(', ')}`), 'gzip')
})
