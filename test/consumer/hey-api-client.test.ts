import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { createClient as generateClient } from '@hey-api/openapi-ts'
import t from 'tap'
import { createApiKey } from '../../src/access/api-keys/api-keys.service.ts'
import { seedDemo } from '../../src/demo/seed-demo.ts'
import { SPEC_FILE } from '../../examples/generate-types.ts'
import { newApiKey } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// The API as a team using Hey API (@hey-api/openapi-ts, the other generator frontends pick) meets
// it: an SDK generated from the committed document, with Zod schemas generated from it too and
// the SDK's validators on, so every request is checked before it goes and every answer as it
// comes back, by a reading of the document that is not ours. It found that publishing without a
// body (what the API documents) could not be sent: the body came out required. Answers whose
// shape a parameter or a key changes (`fields=`, content:preview) are checked against the
// variant the operation names in `x-response-variants`, as the README tells users to.

interface Result { data?: unknown, error?: unknown, response?: Response }
type Call = (options?: Record<string, unknown>) => Promise<Result>

t.test('Hey API\'s generated SDK, its Zod validators on, sends every call and accepts every answer of a running server', async (t) => {
  const output = fileURLToPath(new URL(`../../.cache/hey-api-${process.pid}-${randomBytes(4).toString('hex')}`, import.meta.url))
  t.teardown(() => rm(output, { recursive: true, force: true }))
  await generateClient({
    input: SPEC_FILE,
    output,
    logs: { level: 'silent', file: false },
    plugins: ['@hey-api/client-fetch', '@hey-api/typescript', 'zod', { name: '@hey-api/sdk', validator: true }]
  })
  const sdk = await import(`${output}/sdk.gen.ts`) as Record<string, Call>
  const zod = await import(`${output}/zod.gen.ts`) as Record<string, { parseAsync: (data: unknown) => Promise<unknown> }>
  const { client } = await import(`${output}/client.gen.ts`) as { client: { setConfig: (config: Record<string, unknown>) => void } }

  const { app } = await buildTestApp(t, { PUBLIC_BASE_URL: '', RATE_LIMIT_ANONYMOUS: '100000', RATE_LIMIT_READ: '100000', RATE_LIMIT_WRITE: '100000' })
  await seedDemo(app.db)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  client.setConfig({ baseUrl: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}` })
  const admin = { Authorization: `Bearer ${await newApiKey(app.db, ['admin'])}` }
  const ghost = (await createApiKey(app.db, 'Ghost frontend', ['content:read'], 'ghost')).key

  const failures: string[] = []
  const called = new Set<string>()
  const call = async (operation: string, options: Record<string, unknown> = {}, variant?: string): Promise<any> => {
    called.add(operation)
    const validator = variant === undefined ? {} : { responseValidator: (data: unknown) => zod[`z${variant}`]!.parseAsync(data) }
    try {
      const result = await sdk[operation]!({ ...options, ...validator })
      if (result.error !== undefined) failures.push(`${operation} ${JSON.stringify(options)}: ${result.response?.status} ${JSON.stringify(result.error).slice(0, 300)}`)
      return result.data
    } catch (error) {
      failures.push(`${operation} ${JSON.stringify(options)}: ${String(error instanceof Error ? error.message : error).slice(0, 600)}`)
      return undefined
    }
  }

  // Reads, as a frontend makes them.
  const blog = (await call('listBlogs')).data[0].slug as string
  const author = (await call('listAuthors')).data[0].slug as string
  const tag = (await call('listTags')).data[0].slug as string
  await call('getLiveness')
  await call('getReadiness')
  await call('getMetrics', { headers: admin })
  await call('getBlog', { path: { blog } })
  await call('getAuthor', { path: { author } })
  await call('getTag', { path: { tag } })
  const posts = (await call('listPosts', { query: { limit: 100 } })).data as Array<{ id: string, slug: string, blog: { slug: string } }>
  for (const query of [{ include: ['authors', 'tags'] }, { formats: ['html', 'plaintext'] }, { q: 'Moscow' }, { q: 'Moscow', sort: 'relevance' }, { count: 'estimate' }, { is_breaking: true }, { blog: [blog] }, { published_after: '2014-01-01' }]) {
    await call('listPosts', { query })
  }
  await call('listPosts', { query: { fields: ['title', 'url'] } }, 'SparsePostPage')
  for (const post of posts.slice(0, 3)) {
    await call('getPost', { path: { id: post.id }, query: { include: ['authors', 'tags'] } })
    await call('getPost', { path: { id: post.id }, query: { fields: ['title'] } }, 'SparsePostResponse')
    await call('getPostNewsArticle', { path: { id: post.id } })
    await call('getBlogPost', { path: { blog: post.blog.slug, slug: post.slug } })
  }
  await call('listBlogPosts', { path: { blog } })
  await call('listAuthorPosts', { path: { author } })
  await call('listTagPosts', { path: { tag } })
  for (const query of [{ format: 'json' }, { format: 'json', content: 'full' }]) {
    await call('getLatestFeed', { query })
    await call('getBreakingFeed', { query })
    await call('getBlogFeed', { path: { blog }, query })
    await call('getAuthorFeed', { path: { author }, query })
    await call('getTagFeed', { path: { tag }, query })
  }
  await call('getSitemapIndex', { parseAs: 'text' })
  await call('getNewsSitemap', { parseAs: 'text' })
  await call('getBlogSitemap', { path: { blog }, parseAs: 'text' })
  await call('getBlogNewsSitemap', { path: { blog }, parseAs: 'text' })
  await call('listChanges', { query: { limit: 1000 } })

  // Writes, as an editor's tool makes them, then what a preview key sees of a draft.
  await call('createBlog', { body: { title: 'Hey desk', slug: 'hey-desk' }, headers: admin })
  await call('updateBlog', { path: { blog: 'hey-desk' }, body: { description: 'About' }, headers: admin })
  await call('createAuthor', { body: { name: 'Hey Writer', slug: 'hey-writer' }, headers: admin })
  await call('updateAuthor', { path: { author: 'hey-writer' }, body: { bio: 'Writes.' }, headers: admin })
  await call('createTag', { body: { name: 'Hey Tag', slug: 'hey-tag' }, headers: admin })
  await call('updateTag', { path: { tag: 'hey-tag' }, body: { description: 'About' }, headers: admin })
  const draft = (await call('createPost', { body: { blog: 'hey-desk', title: 'Never published', body_markdown: 'A **draft**.', authors: ['hey-writer'], tags: ['hey-tag'] }, headers: admin }))?.data as { id: string } | undefined
  const story = (await call('createPost', { body: { blog: 'hey-desk', title: 'Filed', body_markdown: 'Text.', lead_image: { url: 'https://img.example/a.jpg', alt: 'A', width: 1200, height: 800 } }, headers: admin }))?.data as { id: string } | undefined
  t.ok(draft !== undefined && story !== undefined, 'posts written')
  await call('getPost', { path: { id: draft?.id }, headers: admin }, 'PreviewPostResponse')
  await call('listPosts', { query: { status: ['draft'] }, headers: admin }, 'PreviewPostPage')
  await call('listChanges', { query: { visibility: 'all', limit: 1000 }, headers: admin })
  await call('updatePost', { path: { id: story?.id }, body: { subtitle: 'Sub' }, headers: admin })
  await call('publishPost', { path: { id: story?.id }, headers: admin })
  await call('unpublishPost', { path: { id: story?.id }, headers: admin })
  await call('publishPost', { path: { id: story?.id }, body: { at: new Date(Date.now() + 3_600_000).toISOString() }, headers: admin })
  await call('deletePost', { path: { id: story?.id }, headers: admin })
  const hook = (await call('createWebhook', { body: { url: 'https://8.8.8.8/hook', event_types: ['post.*'] }, headers: admin }))?.data as { id: string } | undefined
  await call('listWebhooks', { headers: admin })
  await call('getWebhook', { path: { id: hook?.id }, headers: admin })
  await call('updateWebhook', { path: { id: hook?.id }, body: { is_active: false }, headers: admin })
  await call('listWebhookDeliveries', { path: { id: hook?.id }, headers: admin })
  await call('deleteWebhook', { path: { id: hook?.id }, headers: admin })
  const reader = (await call('createApiKey', { body: { name: 'Reader', scopes: ['content:read'] }, headers: admin }))?.data as { id: string } | undefined
  await call('createApiKey', { body: { name: 'Ghost', scopes: ['content:read'], format: 'ghost' }, headers: admin })
  await call('listApiKeys', { headers: admin })
  await call('revokeApiKey', { path: { id: reader?.id }, headers: admin })
  await call('deletePost', { path: { id: draft?.id }, headers: admin })
  await call('deleteTag', { path: { tag: 'hey-tag' }, headers: admin })
  await call('deleteAuthor', { path: { author: 'hey-writer' }, query: { remove_from_posts: true }, headers: admin })
  await call('deleteBlog', { path: { blog: 'hey-desk' }, query: { delete_posts: true }, headers: admin })

  // Ghost's Content API, network-wide and one blog as a site.
  const key = { key: ghost }
  const ghostPost = ((await call('ghostBrowsePosts', { query: { ...key, include: 'authors,tags', formats: 'html,plaintext' } }))?.posts as Array<{ id: string, slug: string }>)[0]!
  await call('ghostBrowsePosts', { query: { ...key, filter: `tag:${tag}`, limit: 'all' } })
  await call('ghostReadPost', { path: { id: ghostPost.id }, query: key })
  await call('ghostReadPostBySlug', { path: { slug: ghostPost.slug }, query: key })
  const ghostAuthor = ((await call('ghostBrowseAuthors', { query: { ...key, include: 'count.posts' } }))?.authors as Array<{ id: string, slug: string }>)[0]!
  await call('ghostReadAuthor', { path: { id: ghostAuthor.id }, query: key })
  await call('ghostReadAuthorBySlug', { path: { slug: ghostAuthor.slug }, query: key })
  const ghostTag = ((await call('ghostBrowseTags', { query: { ...key, include: 'count.posts' } }))?.tags as Array<{ id: string, slug: string }>)[0]!
  await call('ghostReadTag', { path: { id: ghostTag.id }, query: key })
  await call('ghostReadTagBySlug', { path: { slug: ghostTag.slug }, query: key })
  await call('ghostBrowsePages', { query: key })
  await call('ghostSettings', { query: key })
  await call('ghostBrowsePostsOfSite', { path: { site: blog }, query: { ...key, include: 'authors,tags' } })
  await call('ghostReadPostBySlugOfSite', { path: { site: posts[0]!.blog.slug, slug: posts[0]!.slug }, query: key })
  await call('ghostBrowseAuthorsOfSite', { path: { site: blog }, query: key })
  await call('ghostBrowseTagsOfSite', { path: { site: blog }, query: key })
  await call('ghostSettingsOfSite', { path: { site: blog }, query: key })

  t.same(failures, [], `${called.size} operations: every request valid to the SDK, every answer valid to its Zod schemas`)
  const operations = Object.keys(sdk).filter((name) => typeof sdk[name] === 'function')
  t.ok(called.size >= operations.length - 12, `${called.size} of the SDK's ${operations.length} operations called`)
})
