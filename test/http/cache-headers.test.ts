import CachePolicy from 'http-cache-semantics'
import t from 'tap'
import { generateOpenApiDocument } from '../../src/cli.ts'
import type { Scope } from '../../src/access/scopes.ts'
import { newApiKey, newAuthor, newBlog, newPost, newTag } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// Cache headers by class, not by payload: every route, as every kind of caller, on current and
// renamed addresses, with PUBLIC_READ on and off. Whatever the status (2xx, 3xx, 4xx), a
// response that depends on the key varies on Authorization, a key that can see drafts gets
// nothing a shared cache may keep, and with PUBLIC_READ=false nothing is public; a public 308
// names the resource it points to, so a change to it purges the stored redirect. Besides these
// checks of the directives, http-cache-semantics (RFC 9111 as got, make-fetch-happen and other
// caches implement it) judges each answer as a shared cache would: whether it may be stored,
// and whether a stored one would be handed to a request with another key or none.

type Caller = 'none' | 'read' | 'preview' | 'write' | 'admin' | 'invalid'
const SCOPES: Record<'read' | 'preview' | 'write' | 'admin', Scope> = { read: 'content:read', preview: 'content:preview', write: 'content:write', admin: 'admin' }
const SEES_DRAFTS: Caller[] = ['preview', 'write', 'admin']
const KEYLESS_ROUTES = ['getLiveness', 'getReadiness']
const LIMITS = { RATE_LIMIT_ANONYMOUS: '1000000', RATE_LIMIT_READ: '1000000', RATE_LIMIT_WRITE: '1000000', RATE_LIMIT_AUTH_FAILURES: '1000000' }
const NOBODY = '01900000-0000-7000-8000-000000000000'

for (const publicRead of [true, false]) {
  t.test(`cache headers of every route, caller and status, PUBLIC_READ=${publicRead}`, async (t) => {
    const { app } = await buildTestApp(t, { ...LIMITS, PUBLIC_READ: String(publicRead) })
    const document = JSON.parse(await generateOpenApiDocument()) as { paths: Record<string, Record<string, { operationId: string }>> }
    const keys: Partial<Record<Caller, string>> = { invalid: `nokey1_${'x'.repeat(43)}` }
    for (const [caller, scope] of Object.entries(SCOPES)) keys[caller as Caller] = await newApiKey(app.db, [scope])

    // Current and renamed addresses of everything, and a draft renamed from its first headline.
    const blog = await newBlog(app.db, { slug: 'cache-blog' })
    const author = await newAuthor(app.db, { slug: 'cache-author' })
    const tag = await newTag(app.db, { slug: 'cache-tag' })
    const post = await newPost(app.db, { blogId: blog.id, slug: 'public-post', authorIds: [author.id], tagIds: [tag.id] })
    const draft = await newPost(app.db, { blogId: blog.id, slug: 'new-headline', status: 'draft' })
    await app.db.insertInto('slug_redirects').values([
      { entity_type: 'blog', scope_id: null, old_slug: 'old-blog', target_id: blog.id },
      { entity_type: 'author', scope_id: null, old_slug: 'old-author', target_id: author.id },
      { entity_type: 'tag', scope_id: null, old_slug: 'old-tag', target_id: tag.id },
      { entity_type: 'post', scope_id: blog.id, old_slug: 'secret-first-headline', target_id: draft.id },
      { entity_type: 'post', scope_id: blog.id, old_slug: 'old-public-post', target_id: post.id }
    ]).execute()
    const variants = (path: string): string[] => {
      const fill = (names: Record<string, string>) => path.replace(/\{(\w+)\}/g, (_whole, name: string) => names[name] ?? NOBODY)
      const current = { blog: 'cache-blog', author: 'cache-author', tag: 'cache-tag', slug: 'public-post', id: path.startsWith('/v1/posts') ? post.id : NOBODY, delivery: NOBODY }
      return [...new Set([
        fill(current),
        fill({ ...current, blog: 'old-blog', author: 'old-author', tag: 'old-tag', slug: 'old-public-post' }),
        fill({ ...current, slug: 'secret-first-headline' }),
        fill({ ...current, blog: 'no-such-blog', author: 'no-such-author', tag: 'no-such-tag', slug: 'no-such-post' })
      ])]
    }

    const statuses = new Set<number>()
    let checked = 0
    let publicRedirects = 0
    let sharedStorable = 0
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        // Writes with no body and unknown ids: the answers are 4xx and nothing changes.
        for (const url of method === 'get' ? variants(path) : [path.replace(/\{\w+\}/g, NOBODY)]) {
          for (const caller of ['none', 'read', 'preview', 'write', 'admin', 'invalid'] as Caller[]) {
            const res = await app.inject({
              method: method.toUpperCase() as 'GET',
              url,
              headers: caller === 'none' ? {} : { authorization: `Bearer ${keys[caller]}` }
            })
            statuses.add(res.statusCode)
            const what = `${method.toUpperCase()} ${url} as ${caller}: ${res.statusCode} ${String(res.headers['cache-control'])}`
            const cacheControl = String(res.headers['cache-control'] ?? '')
            t.ok(cacheControl !== '', `${what}: has Cache-Control`)
            if (SEES_DRAFTS.includes(caller)) {
              t.match(cacheControl, /\bno-store\b/, `${what}: a key that sees drafts gets nothing storable`)
              t.notMatch(cacheControl, /\bpublic\b/, `${what}: nor anything public`)
            }
            if (!publicRead) t.notMatch(cacheControl, /\bpublic\b/, `${what}: nothing public when reads need a key`)
            if (res.statusCode >= 300 && res.statusCode < 400 && caller !== 'none') t.notMatch(cacheControl, /\bpublic\b/, `${what}: a keyed redirect is private`)
            if (res.statusCode >= 400) t.match(cacheControl, /no-store/, `${what}: errors are never stored`)
            // A shared cache keeps a public 308 like a page: it names what its Location was made
            // from, so that a change to it (a rename back) purges the stored redirect.
            if (res.statusCode === 308 && /\bpublic\b/.test(cacheControl)) {
              const named = String(res.headers['surrogate-key'] ?? '').split(' ')
              t.ok([blog.id, author.id, tag.id, post.id].some((id) => named.some((key) => key.endsWith(`:${id}`))), `${what}: names what it points to (${named.join(' ')})`)
              publicRedirects++
            }
            if (!KEYLESS_ROUTES.includes(operation.operationId)) t.match(String(res.headers.vary ?? ''), /\bAuthorization\b/, `${what}: varies on the key`)
            const requestHeaders = caller === 'none' ? {} : { authorization: `Bearer ${keys[caller]}` }
            const policy = new CachePolicy({ method: method.toUpperCase(), url, headers: requestHeaders }, { status: res.statusCode, headers: res.headers as CachePolicy.Headers }, { shared: true })
            if (SEES_DRAFTS.includes(caller) || res.statusCode >= 400 || !publicRead) t.notOk(policy.storable(), `${what}: a shared cache does not store it (http-cache-semantics)`)
            else if (policy.storable()) {
              sharedStorable++
              for (const other of ['none', 'read', 'preview'] as Caller[]) {
                if (other === caller || (other === 'read' && caller === 'none')) continue
                const otherRequest = { method: method.toUpperCase(), url, headers: other === 'none' ? {} : { authorization: `Bearer ${keys[other]}` } }
                t.notOk(policy.satisfiesWithoutRevalidation(otherRequest), `${what}: a shared cache would not hand it to ${other}`)
              }
            }
            t.not(res.statusCode, 500, what)
            checked++
          }
        }
      }
    }
    t.comment(`${checked} requests; statuses seen: ${[...statuses].sort().join(', ')}`)
    for (const status of [200, 308, 401, 404]) t.ok(statuses.has(status), `saw ${status}`)
    if (publicRead) t.ok(statuses.has(403), 'saw 403')
    if (publicRead) t.ok(publicRedirects > 10, `public 308s checked for their keys: ${publicRedirects}`)
    if (publicRead) t.ok(sharedStorable > 50, `answers a shared cache may store, checked against other callers: ${sharedStorable}`)

    // The case that was found: a renamed draft, asked for by its old slug with a preview key.
    const leaked = await app.inject({ url: '/v1/blogs/cache-blog/posts/secret-first-headline', headers: { authorization: `Bearer ${keys.preview}` } })
    t.equal(leaked.statusCode, 308)
    t.equal(leaked.headers['cache-control'], 'private, no-store')
    t.match(String(leaked.headers.vary), /Authorization/)
  })
}
