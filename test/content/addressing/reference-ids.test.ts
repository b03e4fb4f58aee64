import t from 'tap'
import { sql } from 'kysely'
import type { FastifyRequest } from 'fastify'
import { referenceIds } from '../../../src/content/addressing/reference-ids.ts'
import { newApiKey, newAuthor, newBlog, newPost } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// The ids a list's or feed's filter names (author=, tag=, blog=) are kept per process between
// changes (src/content/addressing/reference-ids.ts). Kept: a rename the process has not heard
// of does not show (the rows are changed behind its back here, as no client can). Dropped at
// the next change it hears of; names that matched nothing are asked again every time; a reader
// asking to see its own write reads the database.

t.test('filter ids are kept until a change is heard, misses never, read-after never', async (t) => {
  const { app } = await buildTestApp(t)
  const db = app.db
  const blog = await newBlog(db, { title: 'Desk' })
  const ana = await newAuthor(db, { slug: 'ana', name: 'Ana' })
  await newPost(db, { blogId: blog.id, status: 'published', title: 'By Ana', authorIds: [ana.id] })
  const request = (headers: Record<string, string> = {}) => ({ server: app, headers }) as unknown as FastifyRequest
  const ids = referenceIds(request())

  t.same(await ids('authors', ['ana']), [ana.id], 'found')
  // Behind the process's back: no change is recorded or heard.
  await sql`UPDATE authors SET slug = 'ana-renamed' WHERE id = ${ana.id}`.execute(db)
  t.same(await ids('authors', ['ana']), [ana.id], 'kept: the rename was not heard of')
  t.same(await referenceIds(request({ 'content-api-read-after': '0/0' }))('authors', ['ana']), [], 'a read-after reader reads the database')
  t.same(await ids('authors', ['ana', 'ana-renamed']), [ana.id], 'other names are another key, read')

  t.same(await ids('authors', ['nobody']), [], 'names nothing')
  const nobody = await newAuthor(db, { slug: 'nobody', name: 'Nobody' })
  t.same(await ids('authors', ['nobody']), [nobody.id], 'a miss is asked again')

  // A write this process serves is a change it hears of.
  const admin = await newApiKey(db, ['admin'])
  const created = await app.inject({ method: 'POST', url: '/v1/tags', headers: { authorization: `Bearer ${admin}` }, payload: { slug: 'a-change', name: 'A change' } })
  t.equal(created.statusCode, 201, 'a write')
  t.same(await ids('authors', ['ana']), [], 'dropped: the old slug names nothing now')
  t.same(await ids('authors', ['ana-renamed']), [ana.id], 'the new slug names the author')

  const list = await app.inject({ url: '/v1/posts?author=ana-renamed' })
  t.equal(list.statusCode, 200)
  t.same(list.json().data.map((post: { title: string }) => post.title), ['By Ana'], 'the list by the new slug')
})
