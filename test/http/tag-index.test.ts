import t from 'tap'
import { TagIndex } from '../../src/http/tag-index.ts'

t.test('a tag carried by one response maps to it, by several to all of them, and goes with the last', async (t) => {
  const index = new TagIndex()
  index.add('page-a', ['post:1', 'blog:9'])
  index.add('page-b', ['post:2', 'blog:9'])
  t.same(index.keysOf('post:1'), ['page-a'])
  t.same(index.keysOf('blog:9').sort(), ['page-a', 'page-b'])
  t.same(index.keysOf('post:3'), [], 'a tag nobody carries')

  index.add('page-a', ['post:1'])
  t.same(index.keysOf('post:1'), ['page-a'], 'the same response twice is one')

  index.remove('page-a', ['post:1', 'blog:9'])
  t.same(index.keysOf('post:1'), [])
  t.same(index.keysOf('blog:9'), ['page-b'])
  index.remove('page-c', ['blog:9'])
  t.same(index.keysOf('blog:9'), ['page-b'], 'removing a response that does not carry a tag changes nothing')
  index.remove('page-b', ['post:2', 'blog:9'])
  t.equal(index.size, 0, 'nothing is left indexed')
})

t.test('a tag whose only response is another one is not dropped for a response that never carried it', async (t) => {
  const index = new TagIndex()
  index.add('page-a', ['post:1'])
  index.remove('page-b', ['post:1'])
  t.same(index.keysOf('post:1'), ['page-a'])
})

t.test('keysOf is a copy: dropping the keys it returned while walking them is safe', async (t) => {
  const index = new TagIndex()
  for (const key of ['a', 'b', 'c']) index.add(key, ['list'])
  const keys = index.keysOf('list')
  for (const key of keys) index.remove(key, ['list'])
  t.same(keys.sort(), ['a', 'b', 'c'])
  t.equal(index.size, 0)
})

t.test('against a model: random adds and removes leave the same keys per tag as a map of sets', async (t) => {
  const index = new TagIndex()
  const model = new Map<string, Set<string>>()
  let seed = 7
  const next = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
  for (let step = 0; step < 5_000; step++) {
    const key = `k${next(20)}`
    const tags = Array.from({ length: 1 + next(3) }, () => `t${next(10)}`)
    if (next(2) === 0) {
      index.add(key, tags)
      for (const tag of tags) { if (!model.has(tag)) model.set(tag, new Set()); model.get(tag)!.add(key) }
    } else {
      index.remove(key, tags)
      for (const tag of tags) { model.get(tag)?.delete(key); if (model.get(tag)?.size === 0) model.delete(tag) }
    }
  }
  for (let tag = 0; tag < 10; tag++) t.same(index.keysOf(`t${tag}`).sort(), [...model.get(`t${tag}`) ?? []].sort(), `t${tag}`)
  t.equal(index.size, model.size)
})
