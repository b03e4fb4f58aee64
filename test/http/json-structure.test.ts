import { parse as parseWithMomoa, type ValueNode } from '@humanwhocodes/momoa'
import t from 'tap'
import { jsonStructureProblem, type JsonPath, type JsonStructureProblem } from '../../src/http/json-structure.ts'
import { newApiKey, newBlog } from '../helpers/factories.ts'
import { seededRandom } from '../helpers/random-writes.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// A write body may not name a key twice in one object (readers disagree on which counts), nor
// nest deeper than any body here goes (JSON.parse spends seconds on a 4 MiB `[[[[`). The scan
// that finds them follows quotes and brackets by hand, so it is held to an independent parser:
// Momoa (a JSON AST parser, ESLint's) reads the same documents, and walking its tree in document
// order names the same first problem, over thousands of generated documents built to trip a
// scanner (keys and strings full of quotes, backslashes, brackets, commas and colons, escaped
// forms of the same key, whitespace anywhere).

/** What Momoa's tree says: the first key named twice or the first value nested too deep, in document order. */
function momoaVerdict (json: string, maxDepth: number): JsonStructureProblem | undefined {
  const walk = (node: ValueNode, path: JsonPath): JsonStructureProblem | undefined => {
    if (node.type !== 'Object' && node.type !== 'Array') return undefined
    if (path.length === maxDepth) return { problem: 'too_deep', path }
    if (node.type === 'Array') {
      for (const [index, element] of node.elements.entries()) {
        const found = walk(element.value, [...path, index])
        if (found !== undefined) return found
      }
      return undefined
    }
    const keys = new Set<string>()
    for (const member of node.members) {
      const key = member.name.type === 'String' ? member.name.value : member.name.name
      if (keys.has(key)) return { problem: 'duplicate_key', key, path: [...path, key] }
      keys.add(key)
      const found = walk(member.value, [...path, key])
      if (found !== undefined) return found
    }
    return undefined
  }
  return walk(parseWithMomoa(json).body, [])
}

// Keys as written in the text: several spell the same key ("title", "\u0074itle"; "ü", "\u00fc";
// an emoji and its surrogate pair), and some hold what a scanner must not take for structure.
const KEYS = ['a', 'b', 'title', 't\\u0069tle', '\\u0074\\u0069\\u0074\\u006c\\u0065', 'x\\"y', 'x\\\\', 'x\\\\\\"', '{', '[', ',', ':', '\\"}', 'ü', '\\u00fc', '😀', '\\ud83d\\ude00', '']
const STRINGS = ['', 'plain', '\\"', '\\\\', '\\\\\\"]},', '{\\"a\\":1,\\"a\\":2}', '[[[[', ']]]}}}', ',:,', '\\u0022', 'ü😀', '\\/']
const SPACES = ['', '', '', ' ', '\n', '\t', '\r\n  ']

function generate (random: () => number, depth: number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const space = () => pick(SPACES)
  const roll = random()
  if (depth > 7 || roll < 0.3) {
    return pick([() => `"${pick(STRINGS)}"`, () => String(Math.floor(random() * 1000) - 500), () => '1.5e3', () => 'true', () => 'null'])()
  }
  const count = Math.floor(random() * 5)
  const items = Array.from({ length: count }, () => roll < 0.65
    ? `${space()}"${pick(KEYS)}"${space()}:${space()}${generate(random, depth + 1)}${space()}`
    : `${space()}${generate(random, depth + 1)}${space()}`)
  return roll < 0.65 ? `{${items.join(',')}}` : `[${items.join(',')}]`
}

t.test('the scan names the same first problem as an independent JSON parser, over generated documents', async (t) => {
  const random = seededRandom(Number(process.env.JSON_STRUCTURE_SEED ?? 20261206))
  const tally = { duplicate_key: 0, too_deep: 0, none: 0 }
  const differ: string[] = []
  for (let i = 0; i < 4_000; i++) {
    const json = generate(random, 0)
    JSON.parse(json) // every document is JSON: the scan runs on what JSON.parse takes
    const maxDepth = 2 + Math.floor(random() * 7)
    const expected = momoaVerdict(json, maxDepth)
    const found = jsonStructureProblem(json, maxDepth)
    tally[expected?.problem ?? 'none']++
    if (JSON.stringify(found) !== JSON.stringify(expected)) differ.push(`${json} (depth ${maxDepth}): ${JSON.stringify(found)}, Momoa ${JSON.stringify(expected)}`)
  }
  t.same(differ.slice(0, 5), [], `${differ.length} documents judged otherwise`)
  t.comment(`4,000 documents: ${tally.duplicate_key} with a key twice, ${tally.too_deep} too deep, ${tally.none} neither`)
  for (const [kind, count] of Object.entries(tally)) t.ok(count > 250, `${count} documents with ${kind}: each kind well represented`)
})

t.test('the problem is found where it is, and text that is not JSON never traps the scan', async (t) => {
  t.same(jsonStructureProblem('{"seo":{"title":"a","title":"b"}}', 32), { problem: 'duplicate_key', key: 'title', path: ['seo', 'title'] })
  t.same(jsonStructureProblem('{"links":[{"url":1},{"url":2,"url":3}]}', 32), { problem: 'duplicate_key', key: 'url', path: ['links', 1, 'url'] })
  t.same(jsonStructureProblem('{"a":{"x":1},"b":{"x":1}}', 32), undefined, 'one key in two objects is two keys')
  t.same(jsonStructureProblem('[[[]]]', 3), undefined, 'as deep as allowed')
  t.same(jsonStructureProblem('[[[[]]]]', 3), { problem: 'too_deep', path: [0, 0, 0] })
  // Cut short, unbalanced, stray quotes, escapes JSON does not have: an answer, at once; JSON.parse says the rest.
  for (const text of ['{"a', '{"a":"b', '"', '}}}]]]', '{"\\x":1,"\\x":2}', '{"a" "a":1}', '\\', '{"a":1,"a"']) {
    const found = jsonStructureProblem(text, 32)
    t.ok(found === undefined || found.problem === 'duplicate_key', `${text}: ${JSON.stringify(found)}`)
  }
})

t.test('over HTTP: a key twice, or nesting past the limit, is a 400 that names it, and nothing is written', async (t) => {
  const { app } = await buildTestApp(t)
  const key = await newApiKey(app.db, ['content:write'])
  await newBlog(app.db, { slug: 'desk' })
  const send = (method: 'POST' | 'PATCH', url: string, payload: string) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, payload })
  const posts = async () => Number((await app.db.selectFrom('posts').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n)

  const cases: Array<[string, string, string, string]> = [
    ['the status twice', '{"blog":"desk","title":"Draft?","status":"draft","status":"published"}', 'duplicate-key', 'body.status'],
    ['the title twice, once escaped', '{"blog":"desk","title":"One","t\\u0069tle":"Two"}', 'duplicate-key', 'body.title'],
    ['a nested key twice', '{"blog":"desk","title":"x","lead_image":{"url":"https://example.com/a.jpg","url":"https://evil.example/b.jpg"}}', 'duplicate-key', 'body.lead_image.url'],
    ['nested past the limit', `{"blog":"desk","title":"x","seo":${'['.repeat(100)}${']'.repeat(100)}}`, 'too-deeply-nested', 'body.seo' + '.0'.repeat(31)],
    ['a 4 MiB body of brackets', '['.repeat(2_000_000) + ']'.repeat(2_000_000), 'too-deeply-nested', 'body' + '.0'.repeat(32)]
  ]
  for (const [what, payload, type, path] of cases) {
    const res = await send('POST', '/v1/posts', payload)
    t.equal(res.statusCode, 400, what)
    t.equal(res.headers['content-type'], 'application/problem+json', what)
    t.equal(res.json().type, `/problems/${type}`, what)
    t.same(res.json().errors?.map((e: { path: string }) => e.path), [path], `${what}: ${res.json().detail.slice(0, 140)}`)
  }
  t.equal(await posts(), 0, 'nothing written')

  const created = await send('POST', '/v1/posts', '{"blog":"desk","title":"Harbour","excerpt":"{\\"title\\":\\"x\\",\\"title\\":[[[","lead_image":{"url":"https://example.com/a.jpg","alt":"title"}}')
  t.equal(created.statusCode, 201, 'keys and brackets inside a string are text')
  const id = created.json().data.id as string
  const edit = await send('PATCH', `/v1/posts/${id}`, '{"title":"Kept","title":"Or this?"}')
  t.equal(edit.statusCode, 400, 'an edit too')
  t.equal((await app.inject({ url: `/v1/posts/${id}`, headers: { authorization: `Bearer ${key}` } })).json().data.title, 'Harbour', 'and the post is as it was')
})
