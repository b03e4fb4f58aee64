import t from 'tap'
import { lookupBatches } from '../../src/db/lookup-batches.ts'

// The batching rules on their own, with a fetch we control: when a query goes out, which keys
// it carries, and who gets which answer. test/content/posts/post-lookups.test.ts drives the
// real one against the database.

interface Sent { query: string, keys: string[], answer: (rows: Array<string | undefined>) => void, fail: (error: Error) => void }

function recorder () {
  const sent: Sent[] = []
  const batches = lookupBatches<string, string, string>({
    fetch: async (query, keys) => new Promise((resolve, reject) => sent.push({ query, keys, answer: resolve, fail: reject })),
    maxInFlight: 2,
    maxBatch: 3,
    stallMs: 60_000,
    maxStalledInFlight: 2
  })
  return { sent, batches }
}

t.test('a lookup with nothing in flight goes out at once, alone', async (t) => {
  const { sent, batches } = recorder()
  const answer = batches.load('g', 'shape', 'a')
  t.same(sent.map((s) => s.keys), [['a']], 'sent before any other work')
  sent[0]!.answer(['row a'])
  t.equal(await answer, 'row a')
})

t.test('lookups beyond the queries in flight wait, and go out together when one answers', async (t) => {
  const { sent, batches } = recorder()
  const answers = ['a', 'b', 'c', 'd', 'b', 'e', 'f'].map((key) => batches.load('g', 'shape', key))
  t.same(sent.map((s) => s.keys), [['a'], ['b']], 'two in flight, the rest waiting')
  sent[0]!.answer(['row a'])
  await answers[0]
  await new Promise((resolve) => setImmediate(resolve))
  t.same(sent.map((s) => s.keys), [['a'], ['b'], ['c', 'd', 'b']], 'the waiting ones, up to the batch size, in the order asked; a key asked twice is looked up twice')
  sent[1]!.answer(['row b'])
  await new Promise((resolve) => setImmediate(resolve))
  t.same(sent[3]?.keys, ['e', 'f'])
  sent[2]!.answer(['row c', undefined, 'row b again'])
  sent[3]!.answer(['row e', 'row f'])
  t.same(await Promise.all(answers), ['row a', 'row b', 'row c', undefined, 'row b again', 'row e', 'row f'], 'each ask gets the row answering it')
  t.equal(batches.stats.queries, 4)
  t.equal(batches.stats.keys, 7)
})

t.test('different queries never share a statement', async (t) => {
  const { sent, batches } = recorder()
  const answers = [batches.load('public', 'public shape', 'a'), batches.load('public', 'public shape', 'b'), batches.load('public', 'public shape', 'c'),
    batches.load('preview', 'preview shape', 'a')]
  t.same(sent.map((s) => [s.query, s.keys]), [['public shape', ['a']], ['public shape', ['b']], ['preview shape', ['a']]])
  for (const s of sent) s.answer(s.keys.map((key) => `${s.query} ${key}`))
  await new Promise((resolve) => setImmediate(resolve))
  sent[3]!.answer(['public shape c'])
  t.same(await Promise.all(answers), ['public shape a', 'public shape b', 'public shape c', 'preview shape a'])
})

t.test('a batch that fails is asked again key by key: one bad key fails only its own lookup', async (t) => {
  const { sent, batches } = recorder()
  const answers = ['a', 'b', 'bad', 'c'].map(async (key) => batches.load('g', 'shape', key).catch((error: Error) => `failed: ${error.message}`))
  sent[0]!.answer(['row a'])
  sent[1]!.answer(['row b'])
  await new Promise((resolve) => setImmediate(resolve))
  t.same(sent[2]?.keys, ['bad', 'c'])
  sent[2]!.fail(new Error('invalid input syntax'))
  await new Promise((resolve) => setImmediate(resolve))
  t.same(sent.slice(3).map((s) => s.keys), [['bad'], ['c']], 'each again, alone')
  sent[3]!.fail(new Error('invalid input syntax'))
  sent[4]!.answer(['row c'])
  t.same(await Promise.all(answers), ['row a', 'row b', 'failed: invalid input syntax', 'row c'])
})

t.test('a query in flight past its stall time lets one more go out beside it, up to a limit', async (t) => {
  const sent: string[][] = []
  const batches = lookupBatches<string, string, string>({
    fetch: async (_query, keys) => new Promise(() => { sent.push(keys) }),
    maxInFlight: 1,
    maxBatch: 10,
    stallMs: 30,
    maxStalledInFlight: 2
  })
  void batches.load('g', 'shape', 'a')
  void batches.load('g', 'shape', 'b')
  t.same(sent, [['a']], 'one in flight')
  await new Promise((resolve) => setTimeout(resolve, 60))
  void batches.load('g', 'shape', 'c')
  t.same(sent, [['a'], ['b', 'c']], 'the first stalled: the waiting ones go out beside it')
  await new Promise((resolve) => setTimeout(resolve, 60))
  void batches.load('g', 'shape', 'd')
  t.same(sent, [['a'], ['b', 'c']], 'no more than maxStalledInFlight, however long they take')
})
