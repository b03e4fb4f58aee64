import t from 'tap'
import { newAuthor, newBlog, newPost, newTag } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// Author and tag lists filter by ids, slugs and blog, and count each one's public posts with
// include=count.posts (drafts, scheduled and deleted posts never count).

t.test('author and tag lists: filters and include=count.posts', async (t) => {
  const { app } = await buildTestApp(t)
  const flag = await newBlog(app.db, { slug: 'flag' })
  const steppe = await newBlog(app.db, { slug: 'steppe' })
  const ann = await newAuthor(app.db, { slug: 'ann' })
  const bob = await newAuthor(app.db, { slug: 'bob' })
  await newAuthor(app.db, { slug: 'cat' })
  const syria = await newTag(app.db, { slug: 'syria' })
  const oil = await newTag(app.db, { slug: 'oil' })
  await newPost(app.db, { blogId: flag.id, authorIds: [ann.id], tagIds: [syria.id] })
  await newPost(app.db, { blogId: flag.id, authorIds: [ann.id, bob.id], tagIds: [syria.id, oil.id] })
  await newPost(app.db, { blogId: steppe.id, authorIds: [bob.id], tagIds: [oil.id] })
  await newPost(app.db, { blogId: steppe.id, authorIds: [ann.id], tagIds: [oil.id], status: 'draft' })
  await newPost(app.db, { blogId: steppe.id, authorIds: [ann.id], tagIds: [oil.id], status: 'scheduled', publishedAt: new Date(Date.now() + 3_600_000) })
  await newPost(app.db, { blogId: flag.id, authorIds: [bob.id], tagIds: [syria.id], deletedAt: new Date() })

  const slugs = async (url: string) => {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 200)}`)
    return res.json().data.map((item: { slug: string, count?: { posts: number } }) => item.count === undefined ? item.slug : `${item.slug}:${item.count.posts}`)
  }
  t.same(await slugs('/v1/authors?include=count.posts'), ['ann:2', 'bob:2', 'cat:0'], 'public posts only')
  t.same(await slugs('/v1/authors'), ['ann', 'bob', 'cat'], 'no count unless asked')
  t.same(await slugs('/v1/authors?blog=steppe'), ['bob'], 'only authors with public posts there (ann\'s are a draft and a scheduled post)')
  t.same(await slugs('/v1/authors?blog=flag,steppe&include=count.posts'), ['ann:2', 'bob:2'])
  t.same(await slugs(`/v1/authors?ids=${bob.id},${ann.id}`), ['ann', 'bob'])
  t.same(await slugs('/v1/authors?slug=cat,nobody'), ['cat'])
  t.same(await slugs('/v1/authors?blog=nowhere'), [], 'a blog that names nothing matches nothing')
  t.same(await slugs('/v1/tags?include=count.posts'), ['oil:2', 'syria:2'])
  t.same(await slugs('/v1/tags?blog=flag&include=count.posts'), ['oil:2', 'syria:2'], 'counts are over every blog; the filter picks the tags')

  const one = await app.inject({ url: '/v1/tags/oil?include=count.posts' })
  t.same(one.json().data.count, { posts: 2 }, 'a single tag too')
  t.notOk('count' in (await app.inject({ url: '/v1/authors/ann' })).json().data)

  for (const url of ['/v1/authors?include=count.pages', '/v1/tags?ids=nope', '/v1/authors?slug=Not A Slug', '/v1/tags/oil?include=posts', '/v1/blogs/flag?include=count.posts', '/v1/tags?unknown=1']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 400, `${url} is refused`)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
  }
})
