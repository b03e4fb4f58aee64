import { sql } from 'kysely'
import t from 'tap'
import { BODY_LIMIT_BYTES } from '../../../src/http/errors.ts'
import { newApiKey, newBlog } from '../../helpers/factories.ts'
import { scramble } from '../../helpers/scrambled-text.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// The longest posts the API accepts (500,000 characters of body), in the scripts a newsroom
// writes, sent as JSON that escapes every non-ASCII character (Python's json.dumps does, by
// default): each is written, rendered and indexed. Found by writing them: a Chinese body of
// 300,000 characters took four minutes to index (cutting runs into pieces was quadratic), one
// with more distinct words or pieces than a tsvector's 1 MB holds failed, and any body over
// 1 MiB of JSON (a third of the limit, escaped) was refused with 413. A quadratic cut would take
// this file far past its time limit, at any machine's speed.

const MAX_BODY = 500_000

/** JSON with every character past ASCII escaped as \uXXXX: the longest form a body takes. */
const asciiJson = (value: unknown) => JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i))
const LETTERS = range(0x61, 0x7a)
// `lexemes`: how many distinct words or pieces at least are indexed. Chinese and Japanese pieces
// and Latin words are more than a tsvector's 1 MB holds: as many as fit are kept (some 80,000),
// not none and not a small share; Thai's 46 letters make at most 2,116 pieces. Emoji are not
// searched inside the body (PostgreSQL's parser skips symbols).
const SCRIPTS: Array<{ name: string, language: string, alphabet: string[], lexemes?: number }> = [
  { name: 'Chinese', language: 'zh', alphabet: range(0x4e00, 0x9fa5), lexemes: 40_000 },
  { name: 'Japanese (kana and kanji)', language: 'ja', alphabet: [...range(0x3041, 0x3096), ...range(0x30a1, 0x30fa), ...range(0x4e00, 0x4fff)], lexemes: 40_000 },
  { name: 'Latin, distinct four-letter words', language: 'en', alphabet: LETTERS.flatMap((a) => LETTERS.flatMap((b) => LETTERS.flatMap((c) => LETTERS.map((d) => `${a}${b}${c}${d} `)))), lexemes: 40_000 },
  { name: 'Thai', language: 'th', alphabet: range(0x0e01, 0x0e2e), lexemes: 2_000 },
  { name: 'emoji (two UTF-16 units each)', language: 'en', alphabet: range(0x1f300, 0x1f5ff) }
]

t.test('the longest body in each script is written and searchable, and its request fits the body limit', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_ANONYMOUS: '100000', RATE_LIMIT_WRITE: '100000' })
  await newBlog(app.db, { slug: 'desk' })
  const writer = await newApiKey(app.db, ['content:write'])
  for (const [index, script] of SCRIPTS.entries()) {
    // As long as the schema allows, counted as it counts (UTF-16 units), in a paragraph.
    const text = scramble(script.alphabet, MAX_BODY - '<p></p>'.length, index + 1)
    const body = { blog: 'desk', title: `Long read ${index} 长文`, body_html: `<p>${text}</p>`, language: script.language, status: 'published' }
    const payload = asciiJson(body)
    t.ok(Buffer.byteLength(payload) <= BODY_LIMIT_BYTES, `${script.name}: ${Buffer.byteLength(payload)} bytes of JSON, within the limit (${BODY_LIMIT_BYTES})`)
    const res = await app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, payload })
    t.equal(res.statusCode, 201, `${script.name}: written (${res.body.slice(0, 200)})`)
    const post = res.json().data as { id: string, slug: string, word_count: number }
    t.ok(post.word_count > 0, `${script.name}: ${post.word_count} words`)

    // Its opening words are found, and its title whatever the body's length.
    const opening = text.includes(' ') ? text.split(' ').slice(0, 3).join(' ') : Array.from(text).slice(0, 4).join('')
    for (const q of script.lexemes !== undefined ? [opening, `Long read ${index}`] : [`Long read ${index}`]) {
      const found = await app.inject({ url: `/v1/posts?${new URLSearchParams({ q, fields: 'slug' }).toString()}` })
      t.equal(found.statusCode, 200)
      t.ok((found.json().data as Array<{ slug: string }>).some((hit) => hit.slug === post.slug), `${script.name}: q=${q} finds it`)
    }
    const { lexemes } = await app.db.selectFrom('posts').select(sql<number>`length(search)`.as('lexemes')).where('id', '=', post.id).executeTakeFirstOrThrow()
    t.comment(`${script.name}: ${lexemes} lexemes in the search vector`)
    if (script.lexemes !== undefined) t.ok(lexemes > script.lexemes, `${script.name}: ${lexemes} distinct words or pieces indexed`)
  }
})

t.test('the render budget is for rendering and sanitizing, not for counting the words of a long read', async (t) => {
  // Counting the longest Chinese body's words (word segmentation) takes 0.2 s on Node 24 and
  // 0.7-1.2 s on Node 20 here, in time linear in its length; sanitizing it some 15 ms. With
  // counting inside the budget, a busy machine pushed it past the default 3 s and the post was
  // refused. A budget between the two: the body is written, and the words counted.
  const { app } = await buildTestApp(t, { BODY_RENDER_TIMEOUT_MS: '150' })
  await newBlog(app.db, { slug: 'desk' })
  const writer = await newApiKey(app.db, ['content:write'])
  const text = scramble(SCRIPTS[0]!.alphabet, MAX_BODY - '<p></p>'.length, 1)
  const res = await app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${writer}` }, payload: { blog: 'desk', title: 'Long read', body_html: `<p>${text}</p>`, language: 'zh' } })
  t.equal(res.statusCode, 201, res.body.slice(0, 200))
  t.ok(res.json().data?.word_count > 100_000, `${res.json().data?.word_count} words`)
})

t.test('a body past the limit is a 413 naming it, before anything is written', async (t) => {
  const { app } = await buildTestApp(t)
  await newBlog(app.db, { slug: 'desk' })
  const writer = await newApiKey(app.db, ['content:write'])
  const payload = JSON.stringify({ blog: 'desk', title: 'Too long', body_html: 'x'.repeat(BODY_LIMIT_BYTES) })
  const res = await app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, payload })
  t.equal(res.statusCode, 413)
  t.equal(res.headers['content-type'], 'application/problem+json')
  t.equal((await app.db.selectFrom('posts').select('id').execute()).length, 0, 'nothing written')
})
