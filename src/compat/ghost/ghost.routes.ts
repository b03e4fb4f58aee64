import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod'
import type * as NqlLang from '@tryghost/nql-lang'
import { z } from 'zod'
import { secretMatches, splitGhostContentKey } from '../../access/api-keys/api-key-secret.ts'
import { findApiKeyForAuth } from '../../access/api-keys/api-keys.repository.ts'
import { hasScope } from '../../access/scopes.ts'
import { changeMemo } from '../../changes/change-memo.ts'
import { blogKeys, bylineKeys, postKeys, postListKeys } from '../../changes/surrogate-keys.ts'
import { isUuid } from '../../content/addressing/identifiers.ts'
import { referenceIds } from '../../content/addressing/reference-ids.ts'
import { findBlog, type BlogRow } from '../../content/blogs/blogs.repository.ts'
import { linksFor } from '../../content/common/site.ts'
import { checkedNames, listOwners } from '../../content/posts/posts.service.ts'
import { AppError, toAppError } from '../../http/errors.ts'
import { setSurrogateKeys } from '../../http/caching.ts'
import { READ_AFTER_HEADER } from '../../http/read-routing.ts'
import { routePlugin } from '../../http/route-plugin.ts'
import {
  badFilter, checkPostFilter, ghostOwnersPage, ghostPost, ghostPostsPage, ownerOrder, postOrder, requiredOwnerSlugs, type Nql
} from './ghost.repository.ts'
import {
  GHOST_LIMIT_CAP, GHOST_LIMIT_DEFAULT, GhostAuthorsSchema, GhostBrowseQuerySchema, GhostErrorSchema, GhostPagesSchema, GhostPostsSchema, GhostReadQuerySchema,
  GhostSettingsResponseSchema, GhostTagsSchema, type GhostBrowseQuery, type GhostReadQuery
} from './ghost.schemas.ts'
import { pickFields, toGhostAuthor, toGhostPost, toGhostSettings, toGhostTag, type GhostInclude } from './ghost.serializers.ts'

// Ghost's Content API over this API's content, so frontends built on Ghost (and its official
// client, @tryghost/content-api) work unchanged. A Ghost site is one blog: point the client's
// `url` at `<api>/sites/<blog>`; `<api>` itself is the whole network. The same repositories,
// visibility rule, response cache and rate limits as /v1 serve it; only the shapes, the
// parameters (NQL filters, page numbers) and the errors are Ghost's.

const ACCEPTED_VERSION = 'v6.0'

const ERROR_TYPES: Record<number, string> = {
  400: 'BadRequestError', 401: 'UnauthorizedError', 403: 'NoPermissionError', 404: 'NotFoundError', 422: 'ValidationError',
  429: 'TooManyRequestsError', 503: 'ServiceUnavailableError'
}

function ghostError (request: FastifyRequest, reply: FastifyReply, error: AppError) {
  for (const [name, value] of Object.entries(error.extra.headers ?? {})) reply.header(name, value)
  const status = error.status >= 500 && error.status !== 503 ? 500 : error.status
  return reply.code(status).header('cache-control', 'no-store').type('application/json; charset=utf-8').serializer(JSON.stringify).send({
    errors: [{
      message: status === 500 ? 'An unexpected error occurred.' : error.message,
      context: error.extra.errors?.map((e) => `${e.path}: ${e.message}`).join('; ') ?? null,
      type: ERROR_TYPES[status] ?? 'InternalServerError',
      details: null,
      property: error.extra.errors?.[0]?.path.replace(/^query\./, '') ?? null,
      help: null,
      code: error.code,
      id: String(request.id),
      ghostErrorCode: null
    }]
  })
}

const csv = (value: string | undefined) => value === undefined ? undefined : value.split(',').map((part) => part.trim()).filter(Boolean)

// Ghost's filter grammar (with Luxon, which it brings) is loaded at the first filter a client
// sends: some 1.2 MB of heap that a process serving only this API's own routes never needs.
let nqlParser: Promise<typeof NqlLang> | undefined

// nql-lang's parser takes time that grows faster than the nesting: a 4,000-character filter of
// parentheses 1,990 deep took 50 ms to parse (against 1-3 ms for as many characters of tags or
// conditions side by side), so such a request cost the CPU of some fifty others. Filter builders
// nest a few levels; deeper than this is refused before parsing.
const MAX_FILTER_NESTING = 32

/** How deep the filter's parentheses nest, outside its quoted strings (`'a(b'`, with `\'` escapes). */
function nesting (filter: string): number {
  let depth = 0
  let deepest = 0
  let quoted = false
  for (let at = 0; at < filter.length; at++) {
    const char = filter[at]
    if (char === '\\') at++
    else if (char === "'") quoted = !quoted
    else if (!quoted && char === '(') deepest = Math.max(deepest, ++depth)
    else if (!quoted && char === ')') depth--
  }
  return deepest
}

async function parseFilter (filter: string | undefined): Promise<Nql | undefined> {
  if (filter === undefined || filter.trim() === '') return undefined
  if (nesting(filter) > MAX_FILTER_NESTING) throw badFilter(`The filter nests too deeply: at most ${MAX_FILTER_NESTING} levels of parentheses.`)
  const { parse: parseNql } = await (nqlParser ??= import('@tryghost/nql-lang'))
  try {
    return ungrouped(parseNql(filter)) as Nql
  } catch (error) {
    throw badFilter(`Error parsing filter: ${String((error as Error).message).split('\n')[0]}`)
  }
}

/**
 * nql-lang marks a parenthesized group `{ yg: ... }` and takes the mark off one level only (at
 * the top, and for each member of an AND or OR), so redundant parentheses, `((tag:a))` or
 * `tag:a+((tag:b,tag:c))`, which filter builders write, came out with `yg` as a field name (a 400
 * naming it). Every mark is taken off, however deep: a group means no more than its contents.
 */
function ungrouped (node: unknown): unknown {
  if (Array.isArray(node)) return node.map(ungrouped)
  if (node === null || typeof node !== 'object') return node
  const entries = Object.entries(node)
  if (entries.length === 1 && entries[0]?.[0] === 'yg') return ungrouped(entries[0][1])
  return Object.fromEntries(entries.map(([key, value]) => [key, key === '$and' || key === '$or' ? ungrouped(value) : value]))
}

function paging (query: GhostBrowseQuery) {
  const limit = query.limit === undefined ? GHOST_LIMIT_DEFAULT : query.limit === 'all' ? GHOST_LIMIT_CAP : Math.min(GHOST_LIMIT_CAP, Math.max(1, Number(query.limit)))
  const page = query.page === undefined ? 1 : Math.max(1, Number(query.page))
  return { limit, page, offset: (page - 1) * limit }
}

function pagination (page: number, limit: number, total: number) {
  const pages = Math.max(1, Math.ceil(total / limit))
  return { page, limit, pages, total, next: page < pages ? page + 1 : null, prev: page > 1 ? page - 1 : null }
}

/** The authors and tags routes are made in one loop; each answers its own envelope. */
type OwnersResponse = z.infer<typeof GhostAuthorsSchema> & z.infer<typeof GhostTagsSchema>

const ghostPlugin: FastifyPluginAsyncZod = async (instance) => {
  const app = instance.withTypeProvider<ZodTypeProvider>()

  // Ghost's errors for every route here, whatever raised them (validation, keys, rate limits).
  app.setErrorHandler((error: FastifyError, request, reply) => ghostError(request, reply, toAppError(error, request)))

  // The key comes in the query string, as Ghost's does; it is checked before anything else
  // (the response cache included), so a revoked key never gets a cached page.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('content-version', ACCEPTED_VERSION)
    const key = (request.query as { key?: unknown }).key
    if (typeof key !== 'string' || key === '') {
      throw new AppError(403, 'no_key', 'Authorization failed: a Content API key (?key=) is required.')
    }
    const parts = splitGhostContentKey(key)
    const row = parts === undefined ? undefined : await findApiKeyForAuth(app.db, parts.prefix)
    if (parts === undefined || row === undefined || row.revoked_at !== null || !secretMatches(parts.secret, row.secret_hash) || !hasScope({ scopes: row.scopes }, 'content:read')) {
      throw new AppError(401, 'unknown_key', 'Unknown Content API Key')
    }
    request.apiKey = { id: row.id, name: row.name, scopes: ['content:read'] }
  })

  const site = async (request: FastifyRequest): Promise<BlogRow | undefined> => {
    const ref = (request.params as { site?: string }).site
    if (ref === undefined) return undefined
    const blog = await findBlog(app.db, /^[0-9a-f-]{36}$/i.test(ref) ? { id: ref.toLowerCase() } : { slug: ref })
    if (blog === undefined) throw new AppError(404, 'not_found', `Site "${ref}" was not found.`)
    return blog
  }

  // Every page of posts carries the exact total, as Ghost's clients expect: a count of every
  // matching post, 0.12-0.17 s at 1,000,000 posts whatever the page. Each process keeps the
  // totals it counted, per site and filter, until the next change it hears of (change-memo.ts),
  // and at most one scheduler interval, within which the scheduler announces a scheduled post
  // whose time has come (it counts from that time on without a write). A read that must follow
  // a write (Content-Api-Read-After) counts afresh.
  const postTotals = changeMemo<number>(app, { max: 10_000, ttlMs: app.config.schedulerIntervalMs })
  const mayUseTotals = (request: FastifyRequest) => request.headers[READ_AFTER_HEADER] === undefined

  const include = (query: GhostReadQuery, allowed: readonly string[]): GhostInclude => {
    const names = checkedNames(csv(query.include), allowed, 'query.include', 'include') ?? []
    return { authors: names.includes('authors'), tags: names.includes('tags'), countPosts: names.includes('count.posts') }
  }
  const formats = (query: GhostReadQuery) => {
    const names = checkedNames(csv(query.formats), ['html', 'plaintext'], 'query.formats', 'format') ?? []
    return names.length === 0 ? { html: true, plaintext: false } : { html: names.includes('html'), plaintext: names.includes('plaintext') }
  }

  /**
   * Whose posts alone a list of posts can hold: its site's, and the tags or authors its filter
   * requires (`filter=tag:x`), of the kinds the fewest (listOwners). Their ids as /v1 filters find
   * them (kept per process until a change); a slug that names nothing yet may name a tag any
   * moment, and one shaped like an id would be read as one: then the filter's kind is left out.
   */
  const owners = async (request: FastifyRequest, blog: BlogRow | undefined, filter: Nql | undefined) => {
    const slugs = requiredOwnerSlugs(filter)
    const ids = referenceIds(request)
    const idsOfAll = async (table: 'authors' | 'tags', given: string[] | undefined) => {
      if (given === undefined || given.some(isUuid)) return undefined
      const found = await ids(table, given)
      return found.length === given.length ? found : undefined
    }
    const [authorIds, tagIds] = await Promise.all([idsOfAll('authors', slugs.authors), idsOfAll('tags', slugs.tags)])
    return listOwners({ blogIds: blog === undefined ? undefined : [blog.id], authorIds, tagIds })
  }

  const common = {
    config: { access: 'query-key' as const },
    schema: { tags: ['Ghost compatibility'] }
  }
  const errors = { 400: GhostErrorSchema, 401: GhostErrorSchema, 403: GhostErrorSchema, 404: GhostErrorSchema }

  for (const prefix of ['/ghost/api/content', '/sites/:site/ghost/api/content']) {
    const scoped = prefix.startsWith('/sites')
    const params = scoped ? { params: z.object({ site: z.string().max(200).describe('The blog (a Ghost site), by slug or id.') }) } : {}
    const withSlug = (extra: Record<string, z.ZodType>) => ({ params: z.object({ ...(scoped ? { site: z.string().max(200) } : {}), ...extra }) })
    const where = scoped ? ' of one blog (a Ghost site)' : ' of the whole network'
    const op = (name: string) => `ghost${name}${scoped ? 'OfSite' : ''}`
    // What each operation is, for the reference (/docs) and client generators; the parameters say the rest.
    const ghosts = (path: string, what: string) => `Ghost's \`GET ${path}\`: ${what}${scoped ? ', on the site that is this blog' : ', across every blog'}. ` +
      'Answers, errors included, in Ghost\'s shapes, as the official @tryghost/content-api client reads them.'
    const browse = (kind: string, extra: string) => ghosts(`/${kind}/`, `the public ${kind}, a \`page\` of \`limit\` at a time with \`meta.pagination\`, narrowed by an NQL \`filter\`, in \`order\`; ${extra}`)
    const readOne = (kind: string, by: string) => ghosts(`/${kind}/${by === 'id' ? '{id}' : 'slug/{slug}'}/`, `one of the public ${kind} by its ${by}, as a list of one; Ghost's 404 when there is none`)

    app.get(`${prefix}/posts/`, {
      ...common,
      schema: { ...common.schema, operationId: op('BrowsePosts'), summary: `Ghost: browse posts${where}`, description: browse('posts', '`include=authors,tags`, `fields` and `formats=html,plaintext` as Ghost takes them'), ...params, querystring: GhostBrowseQuerySchema, response: { 200: GhostPostsSchema, ...errors } }
    }, async (request, reply) => {
      const blog = await site(request)
      const query = request.query
      const { limit, page, offset } = paging(query)
      const wanted = include(query, ['authors', 'tags'])
      const format = formats(query)
      const totalKey = JSON.stringify([blog?.id ?? null, query.filter ?? null])
      const known = mayUseTotals(request) ? postTotals.get(totalKey) : undefined
      const filter = await parseFilter(query.filter)
      const { rows, total } = await ghostPostsPage(app.db, {
        blogId: blog?.id, filter, order: postOrder(query.order), limit, offset, bodies: { html: format.html, text: true }
      }, known)
      if (known === undefined) postTotals.set(totalKey, total, request.changeEpochAtStart)
      setSurrogateKeys(reply, postListKeys(await owners(request, blog, filter)))
      const links = linksFor(request)
      const fields = csv(query.fields)
      return { posts: rows.map((row) => pickFields(toGhostPost(row, links, wanted, format), fields)), meta: { pagination: pagination(page, limit, total) } }
    })

    const readPost = async (request: FastifyRequest<{ Params: { site?: string, id?: string, slug?: string }, Querystring: GhostReadQuery }>, reply: FastifyReply) => {
      const blog = await site(request)
      const query = request.query
      const wanted = include(query, ['authors', 'tags'])
      const format = formats(query)
      const key = request.params.id !== undefined ? { id: request.params.id } : { slug: request.params.slug ?? '' }
      const row = await ghostPost(app.db, blog?.id, key, { html: format.html, text: true })
      if (row === undefined) throw new AppError(404, 'not_found', 'Post not found.')
      setSurrogateKeys(reply, postKeys(row))
      return { posts: [pickFields(toGhostPost(row, linksFor(request), wanted, format), csv(query.fields))] }
    }
    app.get(`${prefix}/posts/:id/`, {
      ...common,
      schema: { ...common.schema, operationId: op('ReadPost'), summary: `Ghost: read a post by id${where}`, description: readOne('posts', 'id'), ...withSlug({ id: z.string().max(200) }), querystring: GhostReadQuerySchema, response: { 200: GhostPostsSchema, ...errors } }
    }, readPost)
    app.get(`${prefix}/posts/slug/:slug/`, {
      ...common,
      schema: { ...common.schema, operationId: op('ReadPostBySlug'), summary: `Ghost: read a post by slug${where}`, description: readOne('posts', 'slug'), ...withSlug({ slug: z.string().max(200) }), querystring: GhostReadQuerySchema, response: { 200: GhostPostsSchema, ...errors } }
    }, readPost)

    for (const kind of ['authors', 'tags'] as const) {
      const Kind = kind === 'authors' ? 'Authors' : 'Tags'
      const one = kind === 'authors' ? 'Author' : 'Tag'
      const schema = kind === 'authors' ? GhostAuthorsSchema : GhostTagsSchema
      const serialize = kind === 'authors' ? toGhostAuthor : toGhostTag
      const keys = (ids: string[], list: boolean) => bylineKeys(kind === 'authors' ? 'author' : 'tag', ids, list)
      app.get(`${prefix}/${kind}/`, {
        ...common,
        schema: { ...common.schema, operationId: op(`Browse${Kind}`), summary: `Ghost: browse ${kind}${where}`, description: browse(kind, `on a site, those of its public posts; \`include=count.posts\` adds how many each has`), ...params, querystring: GhostBrowseQuerySchema, response: { 200: schema, ...errors } }
      }, async (request, reply) => {
        const blog = await site(request)
        const query = request.query
        const { limit, page, offset } = paging(query)
        const wanted = include(query, ['count.posts'])
        checkedNames(csv(query.formats), [], 'query.formats', 'format')
        const { rows, total } = await ghostOwnersPage(app.db, {
          kind, blogId: blog?.id, filter: await parseFilter(query.filter), order: ownerOrder(kind, query.order), limit, offset, withCount: wanted.countPosts
        })
        setSurrogateKeys(reply, keys(rows.map((row) => row.id), true))
        const links = linksFor(request)
        return { [kind]: rows.map((row) => pickFields(serialize(row, links), csv(query.fields))), meta: { pagination: pagination(page, limit, total) } } as unknown as OwnersResponse
      })
      const readOwner = async (request: FastifyRequest<{ Params: { site?: string, id?: string, slug?: string }, Querystring: GhostReadQuery }>, reply: FastifyReply) => {
        const blog = await site(request)
        const query = request.query
        const wanted = include(query, ['count.posts'])
        const filter: Nql = request.params.id !== undefined ? { id: request.params.id.toLowerCase() } : { slug: request.params.slug ?? '' }
        const { rows } = await ghostOwnersPage(app.db, { kind, blogId: blog?.id, filter, order: ownerOrder(kind, undefined), limit: 1, offset: 0, withCount: wanted.countPosts })
        const row = rows[0]
        if (row === undefined) throw new AppError(404, 'not_found', `${one} not found.`)
        setSurrogateKeys(reply, keys([row.id], false))
        return { [kind]: [pickFields(serialize(row, linksFor(request)), csv(query.fields))] } as unknown as OwnersResponse
      }
      app.get(`${prefix}/${kind}/:id/`, {
        ...common,
        schema: { ...common.schema, operationId: op(`Read${one}`), summary: `Ghost: read ${kind === 'authors' ? 'an author' : 'a tag'} by id${where}`, description: readOne(kind, 'id'), ...withSlug({ id: z.string().max(200) }), querystring: GhostReadQuerySchema, response: { 200: schema, ...errors } }
      }, readOwner)
      app.get(`${prefix}/${kind}/slug/:slug/`, {
        ...common,
        schema: { ...common.schema, operationId: op(`Read${one}BySlug`), summary: `Ghost: read ${kind === 'authors' ? 'an author' : 'a tag'} by slug${where}`, description: readOne(kind, 'slug'), ...withSlug({ slug: z.string().max(200) }), querystring: GhostReadQuerySchema, response: { 200: schema, ...errors } }
      }, readOwner)
    }

    // Pages: this data model has none (a blog's "About" text is its settings' description), so
    // pages answer as on a Ghost site without pages: an empty list, and 404 for any one page.
    app.get(`${prefix}/pages/`, {
      ...common,
      schema: { ...common.schema, operationId: op('BrowsePages'), summary: `Ghost: browse pages (always empty)${where}`, description: ghosts('/pages/', 'always an empty list: this data model has no pages (a blog\'s "About" text is its settings\' description), so it answers as a Ghost site without pages'), ...params, querystring: GhostBrowseQuerySchema, response: { 200: GhostPagesSchema, ...errors } }
    }, async (request) => {
      await site(request)
      const { limit, page } = paging(request.query)
      // A filter or an order no posts query would take is Ghost's 400 here too, though no page can match.
      checkPostFilter(await parseFilter(request.query.filter))
      postOrder(request.query.order)
      return { pages: [], meta: { pagination: pagination(page, limit, 0) } }
    })
    for (const [path, name] of [['pages/:id/', 'ReadPage'], ['pages/slug/:slug/', 'ReadPageBySlug']] as const) {
      app.get(`${prefix}/${path}`, {
        ...common,
        schema: { ...common.schema, operationId: op(name), summary: `Ghost: read a page (there are none)${where}`, description: ghosts(`/${path.replace(':id', '{id}').replace(':slug', '{slug}')}`, 'always Ghost\'s 404: there are no pages'), ...withSlug(path.includes(':id') ? { id: z.string().max(200) } : { slug: z.string().max(200) }), querystring: GhostReadQuerySchema, response: { 200: GhostPagesSchema, ...errors } }
      }, async (request) => {
        await site(request)
        throw new AppError(404, 'not_found', 'Page not found.')
      })
    }

    // Ghost resources this API does not have (tiers, newsletters, offers...): Ghost's 404.
    app.get(`${prefix}/*`, { config: { access: 'query-key' }, schema: { hide: true } }, async () => {
      throw new AppError(404, 'not_found', 'Resource not found.')
    })

    app.get(`${prefix}/settings/`, {
      ...common,
      schema: { ...common.schema, operationId: op('Settings'), summary: `Ghost: settings${where}`, description: ghosts('/settings/', scoped ? 'the blog\'s title, description, language, images, social accounts and website' : 'the whole network as one site ("All blogs") and its website'), ...params, querystring: GhostReadQuerySchema.pick({ key: true }).strict(), response: { 200: GhostSettingsResponseSchema, ...errors } }
    }, async (request, reply) => {
      const blog = await site(request)
      setSurrogateKeys(reply, blog === undefined ? blogKeys([], true) : blogKeys([blog.id]))
      return { settings: toGhostSettings(blog, linksFor(request)), meta: {} }
    })
  }
}

export const ghostRoutes = routePlugin('ghost-routes', ghostPlugin)
