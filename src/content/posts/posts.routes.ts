import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { setEtagVersion, setLastModified, setSurrogateKeys } from '../../http/caching.ts'
import { notFound, problemResponses } from '../../http/errors.ts'
import { paginate } from '../../http/pagination.ts'
import { findAuthor } from '../authors/authors.repository.ts'
import { AuthorParamsSchema } from '../authors/authors.schemas.ts'
import { findBlog } from '../blogs/blogs.repository.ts'
import { BlogParamsSchema } from '../blogs/blogs.schemas.ts'
import { isUuid } from '../identifiers.ts'
import { lookUp, redirectRenamed, redirectTo } from '../lookup.ts'
import { findTag } from '../tags/tags.repository.ts'
import { TagParamsSchema } from '../tags/tags.schemas.ts'
import { toPost, toPostListItem } from './posts.mapper.ts'
import { estimatePosts, findPostById, findPostBySlug, listPosts, type Audience, type PostRow } from './posts.repository.ts'
import { hasScope } from '../../access/auth.ts'
import {
  BlogPostParamsSchema, PostIdParamsSchema, PostListQuerySchema, PostPageSchema, PostResponseSchema, SinglePostQuerySchema,
  type PostListQuery
} from './posts.schemas.ts'
import { checkedInclude, loadIncluded, POST_CURSOR, postCursorKey, resolveListRequest, type Scope } from './posts.service.ts'

const LIST_DESCRIPTION = 'Public posts, newest first unless `sort` says otherwise, a page at a time (keyset ' +
  'pagination: follow `links.next`). Filters combine: every one given must hold.'

const RENAMED = { 308: z.undefined().describe('Renamed: `Location` has the canonical URL of the resource.') }

/**
 * A key with content:preview sees drafts and scheduled posts; what it sees must never enter a
 * shared cache, so such responses are private and not stored.
 */
function audienceOf (request: FastifyRequest, reply: FastifyReply): Audience {
  if (!hasScope(request.apiKey, 'content:preview')) return 'public'
  reply.header('cache-control', 'private, no-store')
  return 'preview'
}

export const postsRoutes: FastifyPluginAsyncZod = async (app) => {
  const config = app.config

  async function sendPostPage (request: FastifyRequest, reply: FastifyReply, query: PostListQuery, scope: Scope, scopeKeys: string[]) {
    const audience = audienceOf(request, reply)
    const resolved = await resolveListRequest(app.db, query, scope, audience)
    const [rows, estimate] = await Promise.all([
      listPosts(app.db, {
        audience,
        filter: resolved.filter,
        sort: resolved.sort,
        after: resolved.after,
        limit: query.limit + 1,
        withBody: resolved.fields.includes('body_html')
      }),
      query.count === 'estimate' ? estimatePosts(app.db, resolved.filter, audience) : undefined
    ])
    const page = paginate(request, config.publicBaseUrl, POST_CURSOR, rows, query.limit, (row) => postCursorKey(resolved.sort, row))
    const included = await loadIncluded(app.db, page.items, resolved.include)
    // Any post change purges posts:list (a new post can join any list), so naming each item
    // as well would add a kilobyte per response and purge nothing more.
    setSurrogateKeys(reply, ['posts:list', ...scopeKeys])
    return {
      data: page.items.map((row) => toPostListItem(row, config.postUrlTemplate, resolved.fields)),
      ...(included === undefined ? {} : { included }),
      meta: { ...page.meta, ...(estimate === undefined ? {} : { estimated_total: estimate }) },
      links: page.links
    }
  }

  async function sendPost (request: FastifyRequest, reply: FastifyReply, row: PostRow, includeNames: string[] | undefined) {
    const included = await loadIncluded(app.db, [row], checkedInclude(includeNames))
    setLastModified(reply, row.updated_at)
    setEtagVersion(reply, row.version)
    setSurrogateKeys(reply, [
      `post:${row.id}`, `blog:${row.blog_id}`, ...row.authors.map((a) => `author:${a.id}`), ...row.tags.map((t) => `tag:${t.id}`)
    ])
    return { data: toPost(row, config.postUrlTemplate), ...(included === undefined ? {} : { included }) }
  }

  app.get('/v1/posts', {
    config: { access: 'public' },
    schema: {
      tags: ['Posts'],
      operationId: 'listPosts',
      summary: 'List posts',
      description: LIST_DESCRIPTION,
      querystring: PostListQuerySchema,
      response: { 200: PostPageSchema.describe('A page of posts.'), ...problemResponses(400) }
    }
  }, async (request, reply) => sendPostPage(request, reply, request.query, {}, []))

  app.get('/v1/posts/:id', {
    config: { access: 'public' },
    schema: {
      tags: ['Posts'],
      operationId: 'getPost',
      summary: 'Get a post',
      description: 'One public post by id, with its full sanitized body.',
      params: PostIdParamsSchema,
      querystring: SinglePostQuerySchema,
      response: { 200: PostResponseSchema.describe('The post.'), ...problemResponses(400, 404) }
    }
  }, async (request, reply) => {
    const audience = audienceOf(request, reply)
    const row = isUuid(request.params.id) ? await findPostById(app.db, request.params.id.toLowerCase(), audience) : undefined
    if (row === undefined) throw notFound(`Post "${request.params.id}"`)
    return sendPost(request, reply, row, request.query.include)
  })

  app.get('/v1/blogs/:blog/posts', {
    config: { access: 'public' },
    schema: {
      tags: ['Posts', 'Blogs'],
      operationId: 'listBlogPosts',
      summary: 'List the posts of a blog',
      description: LIST_DESCRIPTION,
      params: BlogParamsSchema,
      querystring: PostListQuerySchema,
      response: { 200: PostPageSchema.describe('A page of posts.'), ...RENAMED, ...problemResponses(400, 404) }
    }
  }, async (request, reply) => {
    const blog = await lookUp(app.db, 'blog', request.params.blog, (key) => findBlog(app.db, key))
    if (blog === undefined) throw notFound(`Blog "${request.params.blog}"`)
    if ('moved' in blog) return redirectRenamed(request, reply, request.params.blog, blog.moved.slug)
    return sendPostPage(request, reply, request.query, { blogId: blog.found.id }, [`blog:${blog.found.id}`])
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
      response: { 200: PostResponseSchema.describe('The post.'), ...RENAMED, ...problemResponses(400, 404) }
    }
  }, async (request, reply) => {
    const { blog: blogRef, slug } = request.params
    const blog = await lookUp(app.db, 'blog', blogRef, (key) => findBlog(app.db, key))
    if (blog === undefined) throw notFound(`Blog "${blogRef}"`)
    if ('moved' in blog) return redirectRenamed(request, reply, blogRef, blog.moved.slug)
    const audience = audienceOf(request, reply)
    const post = await lookUp(app.db, 'post', slug, async (key) =>
      'id' in key ? findPostById(app.db, key.id, audience) : findPostBySlug(app.db, blog.found.id, key.slug, audience), blog.found.id)
    // Addressed by id, a post only answers under its own blog.
    if (post === undefined || ('found' in post && post.found.blog_id !== blog.found.id)) throw notFound(`Post "${slug}" in blog "${blogRef}"`)
    // Renamed, moved to another blog, or addressed by id: send the client to the one canonical URL.
    const row = 'moved' in post ? post.moved : post.found
    if (row.slug !== slug || row.blog_id !== blog.found.id) {
      return redirectTo(request, reply, `/v1/blogs/${encodeURIComponent(row.blog_slug)}/posts/${encodeURIComponent(row.slug)}`)
    }
    return sendPost(request, reply, row, request.query.include)
  })

  app.get('/v1/authors/:author/posts', {
    config: { access: 'public' },
    schema: {
      tags: ['Posts', 'Authors'],
      operationId: 'listAuthorPosts',
      summary: 'List the posts of an author',
      description: `${LIST_DESCRIPTION} Every post the author is credited on counts, not only those they are first on.`,
      params: AuthorParamsSchema,
      querystring: PostListQuerySchema,
      response: { 200: PostPageSchema.describe('A page of posts.'), ...RENAMED, ...problemResponses(400, 404) }
    }
  }, async (request, reply) => {
    const author = await lookUp(app.db, 'author', request.params.author, (key) => findAuthor(app.db, key))
    if (author === undefined) throw notFound(`Author "${request.params.author}"`)
    if ('moved' in author) return redirectRenamed(request, reply, request.params.author, author.moved.slug)
    return sendPostPage(request, reply, request.query, { authorId: author.found.id }, [`author:${author.found.id}`])
  })

  app.get('/v1/tags/:tag/posts', {
    config: { access: 'public' },
    schema: {
      tags: ['Posts', 'Tags'],
      operationId: 'listTagPosts',
      summary: 'List the posts with a tag',
      description: LIST_DESCRIPTION,
      params: TagParamsSchema,
      querystring: PostListQuerySchema,
      response: { 200: PostPageSchema.describe('A page of posts.'), ...RENAMED, ...problemResponses(400, 404) }
    }
  }, async (request, reply) => {
    const tag = await lookUp(app.db, 'tag', request.params.tag, (key) => findTag(app.db, key))
    if (tag === undefined) throw notFound(`Tag "${request.params.tag}"`)
    if ('moved' in tag) return redirectRenamed(request, reply, request.params.tag, tag.moved.slug)
    return sendPostPage(request, reply, request.query, { tagId: tag.found.id }, [`tag:${tag.found.id}`])
  })
}
