import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { hasScope } from '../../access/scopes.ts'
import { blogKeys, namedPostsKeys, postKeys, postListKeys, resourceKey } from '../../changes/surrogate-keys.ts'
import { findBlog } from '../blogs/blogs.repository.ts'
import { NewsArticleSchema, toNewsArticle } from './news-article.ts'
import { setEtagVersion, setLastModified, setSurrogateKeys } from '../../http/caching.ts'
import { AppError, notFound, problemResponses } from '../../http/errors.ts'
import { paginate } from '../../http/pagination.ts'
import { arrayPieces, jsonPieces, responseVariants } from '../../http/serialization.ts'
import { requireScope } from '../../access/auth.ts'
import { z } from 'zod'
import { redirectTo } from '../../http/redirects.ts'
import { BLOGS } from '../addressing/addressables.ts'
import { findOrRedirect, lookUp, RenamedResponse } from '../addressing/find-or-redirect.ts'
import { isUuid } from '../addressing/identifiers.ts'
import { referenceIds } from '../addressing/reference-ids.ts'
import { OUT_OF_TIME } from '../../db/time-budget.ts'
import { linksFor } from '../common/site.ts'
import { POST_OWNERS, ownerRef, type PostOwner } from './post-owners.ts'
import { postLookups } from './post-lookups.ts'
import { countPosts, findPostById, listPostsAsJson, type Audience, type PostJsonRecord, type PostJsonRow, type PostRelations } from './posts.repository.ts'
import {
  BlogPostParamsSchema, DEFAULT_POST_FIELDS, exactCountLimit, POST_PAGE_VARIANTS, POST_RESPONSE_VARIANTS, PostIdParamsSchema, PostListQuerySchema,
  PostPageSchema, PostResponseSchema, PreviewPostPageSchema, PreviewPostResponseSchema, SinglePostQuerySchema, SparsePostPageSchema,
  SparsePostResponseSchema, type PostListQuery
} from './posts.schemas.ts'
import { checkedInclude, checkListQuery, type CheckedListQuery, listOwners, loadIncluded, POST_CURSOR, positionCursorKey, postCursorKey, resolveFields, resolveListRequest, type ListScope } from './posts.service.ts'
import { routePlugin } from '../../http/route-plugin.ts'

const LIST_DESCRIPTION = 'Public posts, newest first unless `sort` says otherwise, a page at a time (keyset ' +
  'pagination: follow `links.next`). Filters combine: every one given must hold.'

const SCOPED_LISTS: Record<PostOwner['entity'], { summary: string, note: string }> = {
  blog: { summary: 'List the posts of a blog', note: '' },
  author: { summary: 'List the posts of an author', note: ' Every post the author is credited on counts, not only those they are first on.' },
  tag: { summary: 'List the posts with a tag', note: '' }
}

type PostPage = z.infer<typeof PostPageSchema>
type PostResponse = z.infer<typeof PostResponseSchema>
type SinglePostQuery = z.infer<typeof SinglePostQuerySchema>

/**
 * The route declares the public, complete shape (what typed clients get by default); a sparse
 * or preview response is its own documented variant, and its type is that variant's, not the
 * declared one: the cast below is checked by jsonPieces against the variant in strict mode.
 */
function variant<T extends z.ZodType> (audience: Audience, sparse: boolean, variants: { complete: T, fields: z.ZodType, preview: z.ZodType }): z.ZodType {
  return sparse ? variants.fields : audience === 'preview' ? variants.preview : variants.complete
}
function hasRelations (row: PostJsonRow): row is PostJsonRow & PostRelations {
  return row.blog_id !== undefined
}
function documented<T> (value: unknown): T {
  return value as T
}

/**
 * A response document around `data` (JSON text, or the texts of an array's items), in pieces
 * to be joined (jsonPieces); its keys in the schemas' order (data, included, meta, links), which
 * is the order typed clients and the byte-for-byte tests see.
 */
function envelope (data: string | readonly string[], included: unknown, page?: { meta: unknown, links: unknown }): string[] {
  const includedJson = included === undefined ? '' : `,"included":${JSON.stringify(included)}`
  const pageJson = page === undefined ? '' : `,"meta":${JSON.stringify(page.meta)},"links":${JSON.stringify(page.links)}`
  return ['{"data":', ...(typeof data === 'string' ? [data] : arrayPieces(data)), `${includedJson}${pageJson}}`]
}

/** A search by relevance that could not rank its matches in the time it has (posts.repository.ts). */
function tooManyToRank (ms: number | undefined): AppError {
  return new AppError(422, 'search_too_broad',
    `This search matches more posts than can be ranked by relevance within ${ms ?? 0} ms; sort by publish time (the default), which pages through any number of matches, or narrow it with more words or filters.`,
    { errors: [{ path: 'query.sort', message: 'relevance cannot rank this many matches in time' }] })
}

/**
 * A key with content:preview sees drafts and scheduled posts; what it sees must never enter a
 * shared cache, so such responses are private and not stored.
 */
function audienceOf (request: FastifyRequest, reply: FastifyReply): Audience {
  if (!hasScope(request.apiKey, 'content:preview')) return 'public'
  reply.header('cache-control', 'private, no-store')
  return 'preview'
}

const postsPlugin: FastifyPluginAsyncZod = async (app) => {
  const config = app.config
  const findPost = postLookups(app)

  async function sendPostPage (request: FastifyRequest, reply: FastifyReply, query: PostListQuery, checked: CheckedListQuery, scope: ListScope, owner?: { type: PostOwner['entity'], id: string }): Promise<PostPage> {
    if (query.status !== undefined) requireScope(request, 'content:preview', 'Filtering by status')
    const audience = audienceOf(request, reply)
    const resolved = await resolveListRequest(referenceIds(request), query, scope, checked)
    const links = linksFor(request)
    const listing = {
      audience,
      filter: resolved.filter,
      sort: resolved.sort,
      after: resolved.after,
      limit: query.limit + 1,
      withBody: resolved.fields.includes('body_html'),
      withText: resolved.fields.includes('body_text')
    }
    // The embedded database's engine has no statement timeout: no limit, and no transaction for one.
    const searchTime = app.database.kind === 'postgres' ? config.searchTimeLimitMs : undefined
    const [found, count] = await Promise.all([
      listPostsAsJson(app.db, listing, { fields: resolved.fields, links, relations: resolved.include.length > 0 }, searchTime),
      query.count === 'estimate' ? countPosts(app.db, resolved.filter, audience, exactCountLimit(resolved.filter), searchTime) : undefined
    ])
    if (found === OUT_OF_TIME) throw tooManyToRank(searchTime)
    const stoppedAt = found.searchedThrough === undefined ? undefined : positionCursorKey(resolved.sort, found.searchedThrough)
    const page = paginate(request, POST_CURSOR, found.rows, query.limit, (row) => postCursorKey(resolved.sort, row), stoppedAt)
    const included = await loadIncluded(app.db, page.items.filter(hasRelations), resolved.include, config.site)
    const wholeBylines = resolved.include.includes('authors') || resolved.include.includes('tags')
    const routeOwner = owner === undefined ? [] : [owner]
    setSurrogateKeys(reply, resolved.filter.ids !== undefined
      ? namedPostsKeys(resolved.filter.ids, routeOwner, wholeBylines)
      : postListKeys(owner === undefined ? listOwners(resolved.filter) : routeOwner, wholeBylines))
    const posts = page.items.map((row) => row.json)
    const meta = { ...page.meta, ...(count === undefined ? {} : { total: count.total, total_exact: count.exact, estimated_total: count.total }) }
    const json = envelope(posts, included, { meta, links: page.links })
    return documented<PostPage>(jsonPieces(reply, json, variant(audience, resolved.sparse, { complete: PostPageSchema, fields: SparsePostPageSchema, preview: PreviewPostPageSchema })))
  }

  /** The fields a single post's response has (400 for unknown ones), asked before it is looked up: they shape its query. */
  function singlePostShape (request: FastifyRequest, query: SinglePostQuery) {
    const include = checkedInclude(query.include)
    const { fields, sparse } = resolveFields(query, DEFAULT_POST_FIELDS)
    return { include, sparse, json: { fields, links: linksFor(request) } }
  }

  async function sendPost (reply: FastifyReply, post: PostJsonRecord, shape: ReturnType<typeof singlePostShape>, audience: Audience): Promise<PostResponse> {
    const included = await loadIncluded(app.db, [post], shape.include, config.site)
    setLastModified(reply, post.updated_at)
    setEtagVersion(reply, post.version)
    setSurrogateKeys(reply, postKeys(post, shape.include))
    // The noindex flag, for crawlers that read headers (robots.txt-style hint, RFC-less but universal).
    if (post.noindex) reply.header('x-robots-tag', 'noindex')
    const json = envelope(post.json, included)
    return documented<PostResponse>(jsonPieces(reply, json, variant(audience, shape.sparse, { complete: PostResponseSchema, fields: SparsePostResponseSchema, preview: PreviewPostResponseSchema })))
  }

  app.get('/v1/posts', {
    config: { access: 'public' },
    schema: {
      tags: ['Posts'],
      operationId: 'listPosts',
      summary: 'List posts',
      description: LIST_DESCRIPTION,
      querystring: PostListQuerySchema,
      response: { 200: PostPageSchema.describe('A page of posts.'), ...problemResponses(400, 422) },
      ...responseVariants(POST_PAGE_VARIANTS)
    }
  }, async (request, reply) => sendPostPage(request, reply, request.query, checkListQuery(request.query), {}))

  app.get('/v1/posts/:id', {
    config: { access: 'public' },
    schema: {
      tags: ['Posts'],
      operationId: 'getPost',
      summary: 'Get a post',
      description: 'One public post by id, with its full sanitized body.',
      params: PostIdParamsSchema,
      querystring: SinglePostQuerySchema,
      response: { 200: PostResponseSchema.describe('The post.'), ...problemResponses(400, 404) },
      ...responseVariants(POST_RESPONSE_VARIANTS)
    }
  }, async (request, reply) => {
    const audience = audienceOf(request, reply)
    const shape = singlePostShape(request, request.query)
    const post = isUuid(request.params.id) ? await findPost({ id: request.params.id.toLowerCase() }, audience, shape.json) : undefined
    if (post === undefined) throw notFound(`Post "${request.params.id}"`)
    return sendPost(reply, post, shape, audience)
  })

  app.get('/v1/posts/:id/news-article', {
    config: { access: 'public' },
    schema: {
      tags: ['Posts'],
      operationId: 'getPostNewsArticle',
      summary: 'A post as NewsArticle structured data',
      description: 'schema.org NewsArticle JSON-LD for the article page (its script element of type `application/ld+json`), following Google\'s article guidelines. Public posts only.',
      params: PostIdParamsSchema,
      querystring: z.object({}).strict(),
      response: { 200: { description: 'The NewsArticle document.', content: { 'application/ld+json': { schema: NewsArticleSchema } } }, ...problemResponses(400, 404) }
    }
  }, async (request, reply) => {
    const row = isUuid(request.params.id) ? await findPostById(app.db, request.params.id.toLowerCase(), 'public') : undefined
    const blog = row === undefined ? undefined : await findBlog(app.db, { id: row.blog_id })
    if (row === undefined || blog === undefined) throw notFound(`Post "${request.params.id}"`)
    setLastModified(reply, row.updated_at)
    setSurrogateKeys(reply, [...postKeys(row), ...blogKeys([blog.id])])
    if (row.noindex) reply.header('x-robots-tag', 'noindex')
    return reply.type('application/ld+json; charset=utf-8').send(toNewsArticle(row, blog, linksFor(request)))
  })

  app.get('/v1/blogs/:blog/posts/:slug', {
    config: { access: 'public' },
    schema: {
      tags: ['Posts', 'Blogs'],
      operationId: 'getBlogPost',
      summary: 'Get a post by blog and slug',
      description: 'One public post, addressed the way its web page is. A renamed post (or blog) answers 308 with the canonical URL.',
      params: BlogPostParamsSchema,
      querystring: SinglePostQuerySchema,
      response: { 200: PostResponseSchema.describe('The post.'), ...RenamedResponse, ...problemResponses(400, 404) },
      ...responseVariants(POST_RESPONSE_VARIANTS)
    }
  }, async (request, reply) => {
    const { blog: blogRef, slug } = request.params
    const shape = singlePostShape(request, request.query)
    const blog = await findOrRedirect(request, BLOGS, blogRef)
    const audience = audienceOf(request, reply)
    const post = await lookUp(app.db, 'post', slug, async (key) =>
      findPost('id' in key ? key : { blogId: blog.id, slug: key.slug }, audience, shape.json), blog.id)
    // Addressed by id, a post only answers under its own blog.
    if (post === undefined || ('found' in post && post.found.blog_id !== blog.id)) throw notFound(`Post "${slug}" in blog "${blogRef}"`)
    // Renamed, moved to another blog, or addressed by id: send the client to the one canonical URL.
    const row = 'moved' in post ? post.moved : post.found
    if (row.slug !== slug || row.blog_id !== blog.id) {
      throw redirectTo(request, `/v1/blogs/${encodeURIComponent(row.blog_slug)}/posts/${encodeURIComponent(row.slug)}`, [resourceKey('post', row.id), resourceKey('blog', row.blog_id)])
    }
    return sendPost(reply, row, shape, audience)
  })

  for (const owner of POST_OWNERS) {
    const text = SCOPED_LISTS[owner.entity]
    app.get(`${owner.path}/posts`, {
      config: { access: 'public' },
      schema: {
        tags: ['Posts', owner.openApiTag],
        operationId: `list${owner.name}Posts`,
        summary: text.summary,
        description: LIST_DESCRIPTION + text.note,
        params: owner.paramsSchema,
        querystring: PostListQuerySchema,
        response: { 200: PostPageSchema.describe('A page of posts.'), ...RenamedResponse, ...problemResponses(400, 404, 422) },
        ...responseVariants(POST_PAGE_VARIANTS)
      }
    }, async (request, reply) => {
      const checked = checkListQuery(request.query)
      const found = await findOrRedirect(request, owner.address, ownerRef(owner, request.params))
      return sendPostPage(request, reply, request.query, checked, owner.scopeOf(found.id), { type: owner.entity, id: found.id })
    })
  }
}

export const postsRoutes = routePlugin('posts-routes', postsPlugin)
