import t from 'tap'
import { countWords } from '../../src/content/posts/post-text.ts'
import { seedDemo } from '../../src/demo/seed-demo.ts'
import { createTestDatabase } from '../helpers/test-database.ts'
import { buildTestApp } from '../helpers/test-app.ts'

const TABLES = ['blogs', 'authors', 'tags', 'posts', 'post_authors', 'post_tags', 'changes'] as const

t.test('the demo content loads once; a second run writes nothing', async (t) => {
  const testDb = await createTestDatabase()
  t.teardown(() => testDb.destroy())
  const { db } = testDb.database
  const first = await seedDemo(db)
  t.same(first, { blogs: 2, authors: 4, tags: 10, posts: 30 })

  const count = async () => Object.fromEntries(await Promise.all(TABLES.map(async (table) =>
    [table, Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)])))
  const before = await count()
  const maxUpdated = await db.selectFrom('posts').select((eb) => eb.fn.max('updated_at').as('m')).executeTakeFirstOrThrow()
  t.same(await seedDemo(db), { blogs: 0, authors: 0, tags: 0, posts: 0 })
  t.same(await count(), before, 'no table changed')
  t.same(await db.selectFrom('posts').select((eb) => eb.fn.max('updated_at').as('m')).executeTakeFirstOrThrow(), maxUpdated)
  t.equal(before.changes, 2 + 4 + 10 + 30, 'one change-log entry per seeded resource')
})

t.test('the demo has the page it comes from: blog, about text, post, lead image, caption, byline', async (t) => {
  const { app } = await buildTestApp(t)
  await seedDemo(app.db)
  const blog = (await app.inject({ url: '/v1/blogs/under-the-black-flag' })).json().data
  t.equal(blog.title, 'Under The Black Flag')
  t.match(blog.description, /^"Under The Black Flag" provides news, opinion, and analysis/)

  const post = await app.db.selectFrom('posts')
    .select(['id', 'title', 'lead_image_caption', 'is_breaking', 'status', 'body_text', 'word_count'])
    .where('slug', '=', 'is-moscow-walking-back-is-intel-sharing-reports')
    .executeTakeFirstOrThrow()
  t.equal(post.title, "Is Moscow Walking Back 'IS Intel-Sharing' Reports?")
  t.equal(post.lead_image_caption, 'U.S. Secretary of State John Kerry (right) speaks with Russian Foreign Minister Sergei Lavrov during a meeting in Paris on October 14.')
  t.equal(post.is_breaking, true)
  t.equal(post.status, 'published')
  t.match(post.body_text, /will not be involved in some 'coalition' created by bypassing the UN Security Council/)
  t.equal(post.word_count, countWords(post.body_text))
  t.ok(post.word_count > 400, `a full article (${post.word_count} words)`)
  const byline = await app.db.selectFrom('post_authors').innerJoin('authors', 'authors.id', 'post_authors.author_id')
    .select('authors.name').where('post_id', '=', post.id).execute()
  t.same(byline, [{ name: 'Joanna Paraszczuk' }])

  const list = (await app.inject({ url: '/v1/blogs' })).json()
  t.same(list.data.map((b: { slug: string }) => b.slug), ['across-the-steppe', 'under-the-black-flag'])
})
