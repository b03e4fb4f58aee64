import t from 'tap'
import { listsToken } from '../../src/http/caching.ts'

// Vary is extended on every response (caching.ts); the check that it already names a header
// must match whole items only, in any case, wherever they stand in the list.
t.test('a header is listed only as a whole item', async (t) => {
  t.ok(listsToken('Accept, Authorization, Accept-Encoding', 'authorization'))
  t.ok(listsToken('authorization', 'Authorization'))
  t.ok(listsToken('Accept,Authorization', 'Authorization'))
  t.ok(listsToken('Accept-Encoding, Accept', 'accept'))
  t.ok(listsToken('*', '*'))
  t.notOk(listsToken('Accept-Encoding', 'Accept'), 'a prefix of another item')
  t.notOk(listsToken('X-Authorization-Hint', 'Authorization'), 'inside another item')
  t.notOk(listsToken('Accept, Accept-Language', 'Language'))
  t.notOk(listsToken('', 'Accept'))
})
