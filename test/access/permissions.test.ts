import t from 'tap'
import { generateOpenApiDocument } from '../../src/cli.ts'
import type { Scope } from '../../src/access/scopes.ts'
import { newApiKey, newAuthor, newBlog, newPost, newTag } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// Every route x every kind of caller. The table says what each operation needs, written here
// independently of the routes' own configuration, so a route that forgets to ask is caught.

type Caller = 'none' | 'read' | 'preview' | 'write' | 'admin' | 'revoked'
const CALLERS: Caller[] = ['none', 'read', 'preview', 'write', 'admin', 'revoked']
const SCOPES: Record<Exclude<Caller, 'none' | 'revoked'>, Scope> = {
  read: 'content:read', preview: 'content:preview', write: 'content:write', admin: 'admin'
}

type Need = 'public' | 'content:write' | 'admin' | 'none' | 'ghost-key'
const NEEDS: Record<string, Need> = {
  getLiveness: 'none', getReadiness: 'none', getMetrics: 'admin',
  listBlogs: 'public', getBlog: 'public', listBlogPosts: 'public', getBlogPost: 'public',
  listAuthors: 'public', getAuthor: 'public', listAuthorPosts: 'public',
  listTags: 'public', getTag: 'public', listTagPosts: 'public',
  listPosts: 'public', getPost: 'public', getPostNewsArticle: 'public',
  getSitemapIndex: 'public', getNewsSitemap: 'public', getBlogSitemap: 'public', getBlogNewsSitemap: 'public',
  getLatestFeed: 'public', getBreakingFeed: 'public', getBlogFeed: 'public', getAuthorFeed: 'public', getTagFeed: 'public',
  listChanges: 'public',
  createBlog: 'content:write', updateBlog: 'content:write', deleteBlog: 'content:write',
  createAuthor: 'content:write', updateAuthor: 'content:write', deleteAuthor: 'content:write',
  createTag: 'content:write', updateTag: 'content:write', deleteTag: 'content:write',
  createPost: 'content:write', updatePost: 'content:write', deletePost: 'content:write',
  publishPost: 'content:write', unpublishPost: 'content:write',
  createApiKey: 'admin', listApiKeys: 'admin', revokeApiKey: 'admin',
  createWebhook: 'admin', listWebhooks: 'admin', getWebhook: 'admin', updateWebhook: 'admin', deleteWebhook: 'admin',
  listWebhookDeliveries: 'admin', retryWebhookDelivery: 'admin',
  ...Object.fromEntries(['BrowsePosts', 'ReadPost', 'ReadPostBySlug', 'BrowseAuthors', 'ReadAuthor', 'ReadAuthorBySlug', 'BrowseTags', 'ReadTag', 'ReadTagBySlug',
    'BrowsePages', 'ReadPage', 'ReadPageBySlug', 'Settings'].flatMap((name) => [[`ghost${name}`, 'ghost-key'], [`ghost${name}OfSite`, 'ghost-key']]))
}

/** 401, 403, or 'pass' (anything else: the request got past access control). */
function expected (need: Need, caller: Caller, publicRead: boolean): 401 | 403 | 'pass' {
  // The probes take no key: one sent, even revoked, is not looked at.
  if (need === 'none') return 'pass'
  if (caller === 'revoked') return 401
  // Ghost routes take only a Ghost key in the query (test/compat/): a bearer key alone gets Ghost's 403.
  if (need === 'ghost-key') return 403
  if (need === 'public') {
    if (publicRead) return 'pass'
    return caller === 'none' ? 401 : 'pass'
  }
  if (caller === 'none') return 401
  if (need === 'admin') return caller === 'admin' ? 'pass' : 403
  return caller === 'write' || caller === 'admin' ? 'pass' : 403
}

const BODIES: Record<string, unknown> = {
  createBlog: { title: 'Matrix blog' },
  updateBlog: { description: 'changed' },
  createAuthor: { name: 'Matrix author' },
  updateAuthor: { bio: 'changed' },
  createTag: { name: 'Matrix tag' },
  updateTag: { description: 'changed' },
  createPost: { blog: 'matrix', title: 'Matrix post' },
  updatePost: { title: 'Changed' },
  createApiKey: { name: 'matrix', scopes: ['content:read'] },
  createWebhook: { url: 'https://example.com/hook', event_types: ['post.*'] },
  updateWebhook: { description: 'changed' }
}

t.test('the table covers every operation of the API', async (t) => {
  const document = JSON.parse(await generateOpenApiDocument())
  const operations = Object.values<Record<string, { operationId: string }>>(document.paths)
    .flatMap((item) => Object.values(item).map((operation) => operation.operationId))
  t.same(operations.sort(), Object.keys(NEEDS).sort())
})

for (const publicRead of [true, false]) {
  t.test(`permission matrix with PUBLIC_READ=${publicRead}`, async (t) => {
    const { app } = await buildTestApp(t, { PUBLIC_READ: String(publicRead), RATE_LIMIT_ANONYMOUS: '100000', RATE_LIMIT_READ: '100000', RATE_LIMIT_WRITE: '100000', RATE_LIMIT_AUTH_FAILURES: '100000' })
    const document = JSON.parse(await generateOpenApiDocument())
    const keys: Partial<Record<Caller, string>> = { revoked: await newApiKey(app.db, ['admin'], { revoked: true }) }
    for (const [caller, scope] of Object.entries(SCOPES)) keys[caller as Caller] = await newApiKey(app.db, [scope])

    let checked = 0
    for (const [path, item] of Object.entries<Record<string, { operationId: string }>>(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const need = NEEDS[operation.operationId] as Need
        for (const caller of CALLERS) {
          // Fresh resources per request: a delete or an unpublish must not change what the next caller meets.
          const blog = await newBlog(app.db, { slug: `matrix-${checked}` })
          if (checked === 0) await newBlog(app.db, { slug: 'matrix' })
          const author = await newAuthor(app.db)
          const tag = await newTag(app.db)
          const post = await newPost(app.db, { blogId: blog.id })
          const url = path
            .replace('{blog}', blog.slug).replace('{site}', blog.slug).replace('{author}', author.slug).replace('{tag}', tag.slug)
            .replace('{slug}', post.slug).replace('{delivery}', '01900000-0000-7000-8000-000000000000')
            .replace('{id}', path.startsWith('/v1/api-keys') || path.startsWith('/v1/webhooks') ? '01900000-0000-7000-8000-000000000000' : post.id)
          const body = BODIES[operation.operationId]
          const res = await app.inject({
            method: method.toUpperCase() as 'GET',
            url,
            headers: {
              ...(caller === 'none' ? {} : { authorization: `Bearer ${keys[caller]}` }),
              ...(body === undefined ? {} : { 'content-type': 'application/json' })
            },
            ...(body === undefined ? {} : { payload: JSON.stringify(body) })
          })
          const want = expected(need, caller, publicRead)
          const got = res.statusCode === 401 || res.statusCode === 403 ? res.statusCode : 'pass'
          t.equal(got, want, `${method.toUpperCase()} ${path} as ${caller}: ${res.statusCode}`)
          if (res.statusCode === 401) t.match(res.headers['www-authenticate'], /^Bearer realm="content-api"/)
          t.not(res.statusCode, 500, `${method.toUpperCase()} ${path} as ${caller} is not a 500: ${res.body.slice(0, 200)}`)
          checked++
        }
      }
    }
    t.comment(`${checked} route x caller combinations`)
  })
}
