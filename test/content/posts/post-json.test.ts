import t from 'tap'
import { sql } from 'kysely'
import type { Links } from '../../../src/content/common/site.ts'
import { toPost, withFields } from '../../../src/content/posts/posts.mapper.ts'
import { listFeedItemsAsJson, listPosts, listPostsAsJson, type Audience, type PostListRequest } from '../../../src/content/posts/posts.repository.ts'
import { toFeedItem } from '../../../src/syndication/feeds/feed-items.ts'
import { OUT_OF_TIME } from '../../../src/db/time-budget.ts'
import { DEFAULT_LIST_FIELDS, POST_FIELDS, type PostField } from '../../../src/content/posts/posts.schemas.ts'
import { newAuthor, newBlog, newPost, newTag } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'
import { blogsWithDriftedJson, forgetRuns, postsWithDriftedRuns } from '../../helpers/post-json-runs.ts'
import { migrateDownThrough } from '../../helpers/migrations.ts'
import { seededRandom } from '../../helpers/random-writes.ts'
import { migrateToLatest } from '../../../src/db/migrator.ts'
import { storeAllMissingRuns } from '../../../src/content/posts/json-runs-backfill.ts'

// Pages of posts are sent as PostgreSQL's JSON text (post-json.repository.ts); the mapper
// (posts.mapper.ts) remains the definition of a post's JSON. This compares the two byte for
// byte over posts made to tell them apart: every control character, quotes and backslashes,
// line and paragraph separators, text in many scripts and outside the BMP, random code points,
// nulls and empty strings, every SEO fallback, lead images with and without their parts,
// timestamps with microseconds, word counts at the reading-time rounding edges, scheduled posts
// whose time has come, drafts (preview), each rule that makes a post's URL, for both audiences,
// the default fields, the bodies, and sparse field lists in any order. Runs of members kept on
// the row by a trigger (the post_json_on_the_row migration) are compared too: as stored, as
// computed for posts that have none, and stored against computed for every post.

const CONTROL = Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('') + '\u007f'
const FAMILY = [
  CONTROL, '"quoted" \\back\\slash\\ /slash/ </script><!--', '\u2028line\u2029paragraph', 'تحت الراية السوداء',
  'हिन्दी समाचार', '新闻 ニュース 뉴스', 'Новости', '😀 family 👨‍👩‍👧 flag 🇺🇦', 'e\u0301 combining, \u200d zwj, \ufeff bom, \ufffe \uffff',
  '', ' ', '\\u0041 not an escape', '{"json":"inside"}'
]

/** A string of random code points from the whole Unicode range (no surrogates, no NUL: PostgreSQL stores neither). */
function randomText (rand: () => number, length: number): string {
  let text = ''
  while (text.length < length) {
    const range = rand()
    const code = range < 0.3 ? 1 + Math.floor(rand() * 0x7f) : range < 0.7 ? 0x80 + Math.floor(rand() * 0xd700) : range < 0.85 ? 0xe000 + Math.floor(rand() * 0x2000) : 0x10000 + Math.floor(rand() * 0x100000)
    text += String.fromCodePoint(code)
  }
  return text
}

const LINKS: Record<string, Links> = {
  'API only': { apiBase: 'http://localhost:3000', site: { website: undefined, postUrlTemplate: undefined } },
  'network website': { apiBase: 'https://api.example.com', site: { website: 'https://news.example.com', postUrlTemplate: undefined } },
  'network template': { apiBase: 'https://api.example.com', site: { website: 'https://news.example.com', postUrlTemplate: 'https://news.example.com/{blog}/{yyyy}/{mm}/{dd}/{slug}-{id}?x={unknown}' } },
  'network template, plain': { apiBase: 'https://api.example.com', site: { website: undefined, postUrlTemplate: 'https://news.example.com/{blog}/story/{slug}' } },
  // Written into the JSON as the API escapes it (jsonTemplate), not by PostgreSQL.
  'network template and API base to escape': { apiBase: 'http://h\u00e9\u0001"\\st:3000', site: { website: undefined, postUrlTemplate: 'https://news.example.com/"{blog}"\\\u2028/{slug}\u0007' } }
}

t.test('a page as PostgreSQL builds its JSON is the mapper\'s JSON, byte for byte', async (t) => {
  const { app } = await buildTestApp(t)
  const db = app.db
  const rand = seededRandom(20261202)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T
  const text = () => rand() < 0.5 ? pick(FAMILY) : randomText(rand, 1 + Math.floor(rand() * 40))

  const plain = await newBlog(db, { title: pick(FAMILY) || 'Plain' })
  const withWebsite = await newBlog(db, { title: 'Website' })
  const withTemplate = await newBlog(db, { title: randomText(rand, 20) })
  await db.updateTable('blogs').set({ website_url: 'https://blog.example.org/news' }).where('id', '=', withWebsite.id).execute()
  await db.updateTable('blogs').set({ post_url_template: 'https://t.example.org/{yyyy}/{mm}/{dd}/{blog}/{slug}/{id}' }).where('id', '=', withTemplate.id).execute()
  // Templates kept split around their {slug} on the blog's row, and ones filled per post.
  const templated = await Promise.all([
    'https://s.example.org/{blog}/articles/{slug}.html?from={blog}', 'https://i.example.org/p/{id}', 'https://d.example.org/{slug}/{slug}', 'https://u.example.org/{slug}?x={unknown}',
    // Not kept split: written through to_json, which escapes them.
    'https://q.example.org/"quoted"/\\back\u0001/{slug}', 'https://e.example.org/caf\u00e9/{blog}/{slug}'
  ].map(async (template, i) => {
    const blog = await newBlog(db, { title: `Templated ${i}` })
    await db.updateTable('blogs').set({ post_url_template: template }).where('id', '=', blog.id).execute()
    return blog
  }))
  const blogs = [plain, withWebsite, withTemplate, ...templated]
  const authors = await Promise.all(FAMILY.slice(0, 6).map((name) => newAuthor(db, { name: name.trim() === '' ? 'Blank' : name })))
  const tags = await Promise.all(FAMILY.slice(6, 12).map((name) => newTag(db, { name: name.trim() === '' ? 'Blank' : name })))

  const wordCounts = [0, 1, 114, 115, 116, 344, 345, 346, 100_000]
  for (let i = 0; i < 60; i++) {
    const status = pick(['published', 'published', 'scheduled', 'draft', 'archived'] as const)
    const publishedAt = status === 'draft' ? null : new Date(Date.now() - 60_000 - Math.floor(rand() * 1e11))
    const post = await newPost(db, {
      blogId: pick(blogs).id,
      status,
      publishedAt,
      title: text() || 'Untitled',
      bodyText: text(),
      authorIds: [...new Set(Array.from({ length: Math.floor(rand() * 4) }, () => pick(authors).id))],
      tagIds: [...new Set(Array.from({ length: Math.floor(rand() * 5) }, () => pick(tags).id))]
    })
    const maybe = () => rand() < 0.5 ? null : text()
    const hasImage = rand() < 0.6
    await db.updateTable('posts').set({
      subtitle: maybe(),
      excerpt: maybe(),
      body_html: `<p>${text()}</p>`,
      word_count: pick(wordCounts),
      lead_image_url: hasImage ? `https://img.example.com/${i}.jpg` : null,
      lead_image_alt: hasImage ? maybe() : null,
      lead_image_caption: hasImage ? maybe() : null,
      lead_image_credit: hasImage ? maybe() : null,
      lead_image_width: hasImage && rand() < 0.5 ? 1 + Math.floor(rand() * 4000) : null,
      lead_image_height: hasImage && rand() < 0.5 ? 1 + Math.floor(rand() * 4000) : null,
      is_breaking: rand() < 0.3,
      is_featured: rand() < 0.3,
      meta_title: maybe(),
      meta_description: maybe(),
      canonical_url: rand() < 0.2 ? `https://elsewhere.example.com/${i}/${pick(FAMILY)}` : null,
      og_title: maybe(),
      og_description: maybe(),
      og_image_url: rand() < 0.3 ? `https://img.example.com/og-${i}.jpg` : null,
      twitter_title: maybe(),
      twitter_description: maybe(),
      twitter_image_url: rand() < 0.3 ? `https://img.example.com/tw-${i}.jpg` : null,
      noindex: rand() < 0.2
    }).where('id', '=', post.id).execute()
    // Microseconds, which the API's timestamps (milliseconds) must cut the same way.
    await sql`UPDATE posts SET updated_at = updated_at + make_interval(secs => ${rand()}::float8),
      published_at = published_at + make_interval(secs => ${rand() / 1000}::float8) WHERE id = ${post.id}`.execute(db)
  }

  t.same(await postsWithDriftedRuns(db), [], 'every post\'s stored runs are what its row gives')
  // A blog renamed after its posts were written: what the posts take from it follows.
  await db.updateTable('blogs').set({ title: FAMILY[1] as string, slug: 'renamed-after' }).where('id', '=', templated[0]!.id).execute()
  t.same(await blogsWithDriftedJson(db), [], 'every blog\'s stored object is what its row gives')
  const split = await db.selectFrom('blogs').select(['id', 'post_url_head', 'post_url_tail']).where('post_url_head', 'is not', null).orderBy('id').execute()
  t.same(split, [
    { id: withWebsite.id, post_url_head: 'https://blog.example.org/news/', post_url_tail: '' },
    { id: templated[0]!.id, post_url_head: 'https://s.example.org/renamed-after/articles/', post_url_tail: '.html?from=renamed-after' },
    { id: templated[5]!.id, post_url_head: `https://e.example.org/caf\u00e9/${templated[5]!.slug}/`, post_url_tail: '' }
  ].sort((a, b) => a.id.localeCompare(b.id)), 'plain templates are kept split around their {slug}, and no others')
  // A blog without its stored object (as a row the trigger never wrote) has it computed.
  await sql`ALTER TABLE blogs DISABLE TRIGGER blogs_json_summary`.execute(db)
  await sql`UPDATE blogs SET json_summary = NULL WHERE id = ${withTemplate.id}`.execute(db)
  await sql`ALTER TABLE blogs ENABLE TRIGGER blogs_json_summary`.execute(db)
  t.same(await blogsWithDriftedJson(db), [withTemplate.id], 'which the drift check tells')
  // Posts written before the migration, outside its window, have no runs: their text is computed.
  const withoutRuns = await forgetRuns(db, sql`id IN (SELECT id FROM posts ORDER BY id LIMIT 20)`)
  t.equal(withoutRuns, 20, 'a third of the posts without runs')
  t.equal((await postsWithDriftedRuns(db)).length, 3 * 20, 'which the drift check tells, each run')

  const fieldSets: Array<[string, readonly PostField[]]> = [
    ['the list defaults', DEFAULT_LIST_FIELDS],
    ['every field', POST_FIELDS],
    ['a sparse list, reordered', ['seo', 'title', 'url', 'authors', 'published_at', 'body_text']],
    ['a sparse list naming id late', ['status', 'id', 'lead_image', 'reading_time_minutes', 'blog']]
  ]
  let compared = 0
  for (const [linkRule, links] of Object.entries(LINKS)) {
    for (const audience of ['public', 'preview'] as Audience[]) {
      for (const [label, fields] of fieldSets) {
        const request: PostListRequest = {
          audience, filter: {}, sort: 'newest', limit: 100, withBody: fields.includes('body_html'), withText: fields.includes('body_text')
        }
        const [rows, listed] = await Promise.all([listPosts(db, request), listPostsAsJson(db, request, { fields, links })])
        const texts = listed === OUT_OF_TIME ? [] : listed.rows
        t.equal(texts.length, rows.length, `${linkRule}, ${audience}, ${label}: the same posts`)
        const mismatches = rows.filter((row, i) => JSON.stringify(withFields(toPost(row, links), fields)) !== texts[i]?.json)
        t.same(mismatches.map((row) => ({ mapper: JSON.stringify(withFields(toPost(row, links), fields)), postgres: texts[rows.indexOf(row)]?.json })), [],
          `${linkRule}, ${audience}, ${label}: every post's JSON is the mapper's`)
        t.same(texts.map((row) => [row.id, new Date(row.sort_time).getTime()]), rows.map((row) => [row.id, row.sort_time.getTime()]), 'the same order and cursor keys')
        compared += rows.length
      }
    }
  }
  // Preview sees drafts and archived posts too, so more than the public.
  t.ok(compared > 4 * 4 * 60, `${compared} posts compared`)

  // The compact JSON feed's items (feedItemJson) against toFeedItem: feeds are public. (With
  // content=full the feed is toFeedItem's own: SQL does not resolve the article's links.)
  let items = 0
  for (const [linkRule, links] of Object.entries(LINKS)) {
    const request: PostListRequest = { audience: 'public', filter: {}, sort: 'newest', limit: 100, withBody: false }
    const [rows, listed] = await Promise.all([listPosts(db, request), listFeedItemsAsJson(db, request, links)])
    t.same(listed.map((item) => item.json), rows.map((row) => JSON.stringify(toFeedItem(row, links, false))), `${linkRule}: every feed item is toFeedItem's`)
    t.same(listed.map((item) => item.updated_at.getTime()), rows.map((row) => row.updated_at.getTime()), 'with its post\'s update time')
    items += rows.length
  }
  t.ok(items > 5 * 20, `${items} feed items compared`)
})

t.test('the migration stores the runs of posts that existed before it, scheduled ones too', async (t) => {
  const { app } = await buildTestApp(t)
  const db = app.db
  const undone = await migrateDownThrough(db, '2026-12-03T01-00-00_post_json_on_the_row')
  const blog = await newBlog(db, { title: 'Desk' })
  const author = await newAuthor(db, { name: 'Ana "A" \\ Ana' })
  for (const [i, status] of (['published', 'scheduled', 'draft'] as const).entries()) {
    await newPost(db, { blogId: blog.id, status, title: `Before ${i} ✓`, authorIds: [author.id], publishedAt: status === 'scheduled' ? new Date(Date.now() + 86_400_000) : undefined })
  }
  t.same(await migrateToLatest(db), [...undone].reverse(), 'up again')
  const drifted = await postsWithDriftedRuns(db)
  // The window is the newest published and the scheduled; a draft gets its runs when next written.
  t.equal(drifted.length, 3, 'the draft alone has none yet, each run')
  const { rows } = await sql<{ status: string }>`SELECT DISTINCT status FROM posts WHERE id IN (${sql.join(drifted.map((row) => row.id))})`.execute(db)
  t.same(rows, [{ status: 'draft' }])
  await sql`UPDATE posts SET title = title || '.' WHERE status = 'draft'`.execute(db)
  t.same(await postsWithDriftedRuns(db), [], 'written again, it has them')
})

t.test('posts left without runs get them from the background pass, and their JSON does not change', async (t) => {
  const { app } = await buildTestApp(t)
  const db = app.db
  const blog = await newBlog(db, { title: 'Archive' })
  for (let i = 0; i < 1_203; i += 100) {
    await db.insertInto('posts').values(Array.from({ length: Math.min(100, 1_203 - i) }, (_, k) => ({
      id: `01900000-0000-7000-8000-${String(i + k).padStart(12, '0')}`, blog_id: blog.id, slug: `old-${i + k}`, title: `Old "${i + k}" ✓`,
      excerpt: k % 3 === 0 ? null : 'An excerpt\\twith a tab', status: 'published' as const, published_at: new Date(Date.UTC(2015, 0, 1) + (i + k) * 60_000)
    }))).execute()
  }
  const page = async () => {
    const listed = await listPostsAsJson(db, { audience: 'public', filter: {}, sort: 'oldest', limit: 50, withBody: false }, { fields: DEFAULT_LIST_FIELDS, links: LINKS['API only']! })
    return listed === OUT_OF_TIME ? [] : listed.rows.map((row) => row.json)
  }
  const before = await page()
  await forgetRuns(db)
  t.equal((await postsWithDriftedRuns(db)).length, 3 * 1_203, 'every post without its runs')
  t.same(await page(), before, 'computed, the same JSON')

  t.equal(await storeAllMissingRuns(db), 1_203, 'the pass gives every post its runs, in batches')
  t.same(await postsWithDriftedRuns(db), [], 'each the text its row gives')
  t.same(await page(), before, 'read from the rows, the same JSON')
  t.equal(await storeAllMissingRuns(db), 0, 'a second pass finds none')
  let batches = 0
  await forgetRuns(db)
  t.equal(await storeAllMissingRuns(db, () => batches++ >= 1), 500, 'stopped after a batch, it leaves the rest for the next start')
  t.equal(await storeAllMissingRuns(db), 703, 'which the next start goes on from')
  t.same(await postsWithDriftedRuns(db), [], 'every post has its runs again')
})

t.test('the app runs the pass when it is ready, with its background jobs', async (t) => {
  const { app, logs } = await buildTestApp(t, {}, { backgroundJobs: true })
  const db = app.db
  const blog = await newBlog(db, { title: 'Archive' })
  await db.insertInto('posts').values(Array.from({ length: 600 }, (_, k) => ({
    id: `01900000-0000-7000-8000-${String(k).padStart(12, '0')}`, blog_id: blog.id, slug: `old-${k}`, title: `Old ${k}`, status: 'published' as const, published_at: new Date(Date.UTC(2015, 0, 1) + k * 60_000)
  }))).execute()
  await forgetRuns(db)
  await app.ready()
  // It runs in the background and logs when it has found none left: wait for that (generously:
  // a busy machine is slow, not wrong).
  const finished = () => logs.find((line) => line.msg === 'stored the JSON runs of posts written before they were kept')
  for (let waited = 0; waited < 60_000 && finished() === undefined; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(finished()?.count, 600, 'the pass says how many posts it gave runs')
  t.same(await postsWithDriftedRuns(db), [], 'every post has its runs')
})
