import { sql, type Kysely } from 'kysely'
import t from 'tap'
import { uuidv7 } from 'uuidv7'
import { migrateToLatest } from '../../../src/db/migrator.ts'
import type { DB } from '../../../src/db/schema.ts'
import { newBlog } from '../../helpers/factories.ts'
import { migrateDownThrough } from '../../helpers/migrations.ts'
import { NAUGHTY } from '../../helpers/naughty-strings.ts'
import { scramble } from '../../helpers/scrambled-text.ts'
import { createTestDatabase } from '../../helpers/test-database.ts'

// The search_vector_cost migration builds each post's search vector with less work (no
// planning inside the block that catches an oversized vector, no NFKC pass over ASCII text, no
// new vector when an update leaves the texts as they were). Its promise is that no vector
// changes: here every post of a corpus is indexed by the functions before it and by the ones
// after it, through the trigger and through the function the migrations reindex with, and the
// vectors must be equal, and equal again after the migration is undone.

const MIGRATION = '2026-12-07T01-00-00_search_vector_cost'
const LANGUAGES = ['en', 'fr', 'de', 'ru', 'ar', 'ta', 'zh', 'ja', 'th', 'ko', 'vi', 'xx']

interface Texts { language: string, title: string, subtitle: string | null, excerpt: string | null, body: string }

const fromCodePoints = (from: number, to: number) => {
  let text = ''
  for (let code = from; code <= to; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue
    // Every ninth character a space, so words and runs of every length are cut from the block.
    text += String.fromCodePoint(code) + (code % 9 === 0 ? ' ' : '')
  }
  return text
}

/** At most `length` characters (code points, as the table's checks count them). */
const cut = (text: string, length: number) => Array.from(text).slice(0, length).join('')

/**
 * What a newsroom writes and what it should not: the Big List of Naughty Strings (every kind of
 * Unicode trouble), each block of code points below U+30000 (compatibility forms NFKC rewrites,
 * combining marks, the scripts cut into pieces and the ones that are not), the same words in
 * every normalization form, and two bodies whose vectors pass 1 MB (the block's fallback).
 */
function corpus (): Texts[] {
  const texts: Texts[] = []
  const language = (i: number) => LANGUAGES[i % LANGUAGES.length] as string
  // PostgreSQL's text holds no NUL.
  const naughty = NAUGHTY.filter((text) => !text.includes('\u0000'))
  naughty.forEach((text, i) => {
    texts.push({ language: language(i), title: cut(text, 300) || 'Untitled', subtitle: i % 3 === 0 ? null : cut(text, 500), excerpt: i % 2 === 0 ? cut(text, 2_000) : null, body: `${text} ${naughty[(i + 1) % naughty.length] ?? ''}` })
  })
  for (let from = 0x20; from < 0x30000; from += from < 0x10000 ? 0x100 : 0x1000) {
    const block = fromCodePoints(from, from + (from < 0x10000 ? 0xff : 0xfff))
    texts.push({ language: language(from >> 8), title: block.slice(0, 40) || 'Untitled', subtitle: null, excerpt: block.slice(40, 120), body: block })
  }
  const words = ['Café de Hanoï', 'Tiếng Việt hôm nay', '한국어 뉴스 속보', 'Größe der Städte', 'ニュース速報 ﾆｭｰｽ', 'ﬁnance ＡＢＣ', 'தமிழ் செய்திகள்', 'ข่าวต่างประเทศ', '今天在北京会见了']
  for (const [i, text] of words.entries()) {
    for (const form of ['NFC', 'NFD', 'NFKC', 'NFKD'] as const) {
      texts.push({ language: language(i), title: text.normalize(form), subtitle: text, excerpt: text.normalize(form), body: `${text.normalize(form)} `.repeat(50) })
    }
  }
  texts.push({ language: 'zh', title: 'Long read 长文', subtitle: null, excerpt: null, body: scramble(Array.from({ length: 0x51a5 }, (_, i) => String.fromCodePoint(0x4e00 + i)), 120_000, 7) + ' lastword' })
  const letters = Array.from({ length: 26 }, (_, i) => String.fromCharCode(0x61 + i))
  const fourLetterWords = letters.flatMap((a) => letters.flatMap((b) => letters.flatMap((c) => letters.map((d) => `${a}${b}${c}${d} `))))
  texts.push({ language: 'en', title: 'Long read', subtitle: 'A standfirst', excerpt: 'And an excerpt', body: scramble(fourLetterWords, 800_000, 11) + ' lastword' })
  return texts
}

async function insertPosts (db: Kysely<DB>, blogId: string, texts: Texts[], prefix: string): Promise<string[]> {
  const ids: string[] = []
  for (let start = 0; start < texts.length; start += 100) {
    const rows = texts.slice(start, start + 100).map((text, i) => {
      const id = uuidv7()
      ids.push(id)
      return {
        id, blog_id: blogId, slug: `${prefix}-${start + i}`, title: text.title, subtitle: text.subtitle, excerpt: text.excerpt,
        body_html: '<p>x</p>', body_text: text.body, word_count: 1, language: text.language, status: 'draft' as const
      }
    })
    await db.insertInto('posts').values(rows).execute()
  }
  return ids
}

async function vectors (db: Kysely<DB>, ids: string[]): Promise<string[]> {
  const { rows } = await sql<{ id: string, search: string }>`SELECT id, search::text AS search FROM posts WHERE id = ANY(${ids}::uuid[])`.execute(db)
  const byId = new Map(rows.map((row) => [row.id, row.search]))
  return ids.map((id) => byId.get(id) as string)
}

/** Posts whose stored vector is not what the reindexing function makes of their texts now. */
async function reindexedDifferently (db: Kysely<DB>): Promise<string[]> {
  const { rows } = await sql<{ slug: string }>`SELECT slug FROM posts
    WHERE search IS DISTINCT FROM post_search_vector_within_limit(language, title, subtitle, excerpt, body_text) ORDER BY slug`.execute(db)
  return rows.map((row) => row.slug)
}

t.test('every post is indexed exactly as before the migration, and after it is undone', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  const db = testDb.database.db
  t.same(await migrateDownThrough(db, MIGRATION), [MIGRATION])
  const blog = await newBlog(db)
  const texts = corpus()
  t.ok(texts.length > 700, `${texts.length} posts`)

  const before = await insertPosts(db, blog.id, texts, 'before')
  const expected = await vectors(db, before)
  // A vector over 1 MB is cut to the share of the body that fits: most of its words or pieces,
  // not its last word.
  for (const [offset, what] of [[2, 'Chinese pieces'], [1, 'Latin words']] as const) {
    const body = texts.at(-offset)!.body
    const terms = what === 'Latin words' ? new Set(body.split(' ')).size : new Set(Array.from({ length: body.length - 1 }, (_, i) => body.slice(i, i + 2))).size
    const { rows: [row] } = await sql<{ lexemes: number, last: boolean }>`SELECT length(search) AS lexemes, search @@ 'lastword'::tsquery AS last FROM posts WHERE id = ${before.at(-offset)}`.execute(db)
    t.ok(row!.lexemes > terms / 2 && !row!.last, `the long body of ${terms} distinct ${what} was cut to fit: ${row!.lexemes} lexemes, its last word left out`)
  }
  t.same(await migrateToLatest(db), [MIGRATION])
  t.same(await reindexedDifferently(db), [], 'the function the migrations reindex with gives every vector as before')
  const after = await insertPosts(db, blog.id, texts, 'after')
  const written = await vectors(db, after)
  const differing = texts.map((text, i) => written[i] === expected[i] ? undefined : text.title).filter((title) => title !== undefined)
  t.same(differing, [], 'the trigger gives every new post the vector the functions before gave it')

  await db.updateTable('posts').set({ language: 'en', title: 'Changed title' }).where('slug', '=', 'after-0').execute()
  t.same(await reindexedDifferently(db), [], 'a changed title gives a new vector')

  t.same(await migrateDownThrough(db, MIGRATION), [MIGRATION])
  t.same(await reindexedDifferently(db), [], 'undone, the functions before give the same vectors')
  t.same(await migrateToLatest(db), [MIGRATION])
})

t.test('an update that leaves the five texts as they were keeps the vector the post has', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  const db = testDb.database.db
  const blog = await newBlog(db)
  const [id] = await insertPosts(db, blog.id, [{ language: 'en', title: 'Ceasefire holds', subtitle: 'Talks', excerpt: null, body: 'Monitors observed no violations overnight.' }], 'kept')
  const stored = (await vectors(db, [id as string]))[0]
  t.match(stored, /'ceasefir':1A/)

  // A vector the texts would not give, set without touching them (the trigger does not run),
  // tells whether the next update built one.
  await sql`UPDATE posts SET search = to_tsvector('simple', 'marker') WHERE id = ${id}`.execute(db)
  await db.updateTable('posts').set({ language: 'en', title: 'Ceasefire holds', subtitle: 'Talks', excerpt: null, body_text: 'Monitors observed no violations overnight.', status: 'published', published_at: new Date() })
    .where('id', '=', id as string).execute()
  t.same(await vectors(db, [id as string]), ["'marker':1"], 'the same texts written again: no vector built')
  await db.updateTable('posts').set({ excerpt: 'Talks resume' }).where('id', '=', id as string).execute()
  t.same(await vectors(db, [id as string]), await sql<{ v: string }>`SELECT post_search_vector_within_limit(language, title, subtitle, excerpt, body_text)::text AS v FROM posts WHERE id = ${id}`
    .execute(db).then((result) => result.rows.map((row) => row.v)), 'one text changed: the vector is built again')
})
