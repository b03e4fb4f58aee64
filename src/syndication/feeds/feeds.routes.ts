import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { findAuthor } from '../../content/authors/authors.repository.ts'
import { AuthorParamsSchema } from '../../content/authors/authors.schemas.ts'
import { findBlog } from '../../content/blogs/blogs.repository.ts'
import { BlogParamsSchema } from '../../content/blogs/blogs.schemas.ts'
import { latestChangeTime } from '../../content/changes.repository.ts'
import { lookUp, redirectRenamed } from '../../content/lookup.ts'
import { postUrl } from '../../content/posts/posts.mapper.ts'
import { listPosts, type PostFilter } from '../../content/posts/posts.repository.ts'
import { resolveIds } from '../../content/references.repository.ts'
import { findTag } from '../../content/tags/tags.repository.ts'
import { TagParamsSchema } from '../../content/tags/tags.schemas.ts'
import { setLastModified, setSurrogateKeys } from '../../http/caching.ts'
import { notFound, problemResponses } from '../../http/errors.ts'
import { CONTENT_TYPES, negotiateFormat, renderFeed } from './feed-render.ts'
import { FeedQuerySchema, JsonFeedSchema, type FeedQuery } from './feeds.schemas.ts'

interface FeedScope {
  name: string
  title: string
  description: string
  filter: PostFilter
  surrogateKeys: string[]
}

const FEED_RESPONSES = {
  200: {
    description: 'The feed, in the format asked for.',
    content: {
      'application/json': { schema: JsonFeedSchema },
      'application/rss+xml': { schema: z.string().describe('RSS 2.0') },
      'application/atom+xml': { schema: z.string().describe('Atom 1.0') },
      'application/feed+json': { schema: z.string().describe('JSON Feed 1.1') }
    }
  },
  308: z.undefined().describe('Renamed: `Location` has the canonical URL.'),
  ...problemResponses(400, 404)
}

const FEED_DESCRIPTION = 'The newest public posts, as compact JSON, RSS 2.0, Atom 1.0 or JSON Feed 1.1 (`format=` or the Accept header). ' +
  'Takes the list filters (blog, author, tag, language), so "this author in this tag" is one URL.'

export const feedsRoutes: FastifyPluginAsyncZod = async (app) => {
  const config = app.config

  /** The query's filters, narrowed to the feed's own scope. */
  async function filterFor (query: FeedQuery, scope: PostFilter): Promise<PostFilter> {
    const narrow = async (table: 'blogs' | 'authors' | 'tags', refs: string[] | undefined, scoped: string[] | undefined) => {
      const resolved = refs === undefined ? undefined : await resolveIds(app.db, table, refs)
      if (scoped === undefined) return resolved
      return resolved === undefined ? scoped : resolved.filter((id) => scoped.includes(id))
    }
    return {
      ...scope,
      blogIds: await narrow('blogs', query.blog, scope.blogIds),
      authorIds: await narrow('authors', query.author, scope.authorIds),
      tagIds: await narrow('tags', query.tag, scope.tagIds),
      language: query.language
    }
  }

  async function sendFeed (request: FastifyRequest, reply: FastifyReply, query: FeedQuery, scope: FeedScope) {
    const format = query.format ?? negotiateFormat(request.headers.accept)
    const full = query.content === 'full'
    const filter = await filterFor(query, scope.filter)
    // Last-Modified must move forward even when the newest item is unpublished, so it also
    // counts the newest post change anywhere (asked for alongside the page).
    const [rows, latestChange] = await Promise.all([
      listPosts(app.db, { filter, sort: 'newest', limit: query.limit, withBody: full, audience: 'public' }),
      latestChangeTime(app.db, 'post')
    ])
    const updated = new Date(Math.max(0, latestChange?.getTime() ?? 0, ...rows.map((row) => row.updated_at.getTime())))
    setLastModified(reply, updated)
    setSurrogateKeys(reply, [`feed:${scope.name}`, 'posts:list', ...scope.surrogateKeys])
    reply.header('vary', 'Accept')
    const self = new URL(request.url, config.publicBaseUrl)
    self.searchParams.delete('format')
    const selfUrl = self.toString()
    if (format === 'json') {
      return reply.type(CONTENT_TYPES.json).send({
        data: rows.map((row) => ({
          id: row.id,
          title: row.title,
          url: postUrl(config.postUrlTemplate, row),
          excerpt: row.excerpt,
          published_at: (row.published_at ?? row.sort_time).toISOString(),
          updated_at: row.updated_at.toISOString(),
          blog: { id: row.blog_id, slug: row.blog_slug, title: row.blog_title },
          authors: row.authors,
          thumbnail: row.lead_image_url,
          is_breaking: row.is_breaking,
          ...(full ? { content_html: row.body_html ?? '' } : {})
        })),
        meta: { title: scope.title, feed_url: selfUrl }
      })
    }
    const body = renderFeed(format, { title: scope.title, description: scope.description, selfUrl, language: 'en', updated }, rows, config.postUrlTemplate, full)
    return reply.type(CONTENT_TYPES[format]).send(body)
  }

  const common = { config: { access: 'public' as const } }

  app.get('/v1/feeds/latest', {
    ...common,
    schema: { tags: ['Feeds'], operationId: 'getLatestFeed', summary: 'Latest posts feed', description: FEED_DESCRIPTION, querystring: FeedQuerySchema, response: FEED_RESPONSES }
  }, async (request, reply) => sendFeed(request, reply, request.query, {
    name: 'latest', title: 'Latest Posts', description: 'The newest posts from every blog.', filter: {}, surrogateKeys: []
  }))

  app.get('/v1/feeds/breaking', {
    ...common,
    schema: { tags: ['Feeds'], operationId: 'getBreakingFeed', summary: 'Breaking news feed', description: FEED_DESCRIPTION, querystring: FeedQuerySchema, response: FEED_RESPONSES }
  }, async (request, reply) => sendFeed(request, reply, request.query, {
    name: 'breaking', title: 'Breaking News', description: 'Breaking news from every blog.', filter: { isBreaking: true }, surrogateKeys: []
  }))

  app.get('/v1/blogs/:blog/feed', {
    ...common,
    schema: { tags: ['Feeds', 'Blogs'], operationId: 'getBlogFeed', summary: 'A blog\'s feed', description: FEED_DESCRIPTION, params: BlogParamsSchema, querystring: FeedQuerySchema, response: FEED_RESPONSES }
  }, async (request, reply) => {
    const blog = await lookUp(app.db, 'blog', request.params.blog, (key) => findBlog(app.db, key))
    if (blog === undefined) throw notFound(`Blog "${request.params.blog}"`)
    if ('moved' in blog) return redirectRenamed(request, reply, request.params.blog, blog.moved.slug)
    const { id, title, description } = blog.found
    return sendFeed(request, reply, request.query, { name: `blog:${id}`, title, description, filter: { blogIds: [id] }, surrogateKeys: [`blog:${id}`] })
  })

  app.get('/v1/authors/:author/feed', {
    ...common,
    schema: { tags: ['Feeds', 'Authors'], operationId: 'getAuthorFeed', summary: 'An author\'s feed', description: FEED_DESCRIPTION, params: AuthorParamsSchema, querystring: FeedQuerySchema, response: FEED_RESPONSES }
  }, async (request, reply) => {
    const author = await lookUp(app.db, 'author', request.params.author, (key) => findAuthor(app.db, key))
    if (author === undefined) throw notFound(`Author "${request.params.author}"`)
    if ('moved' in author) return redirectRenamed(request, reply, request.params.author, author.moved.slug)
    const { id, name } = author.found
    return sendFeed(request, reply, request.query, { name: `author:${id}`, title: `Posts by ${name}`, description: author.found.bio || `Posts by ${name}.`, filter: { authorIds: [id] }, surrogateKeys: [`author:${id}`] })
  })

  app.get('/v1/tags/:tag/feed', {
    ...common,
    schema: { tags: ['Feeds', 'Tags'], operationId: 'getTagFeed', summary: 'A tag\'s feed', description: FEED_DESCRIPTION, params: TagParamsSchema, querystring: FeedQuerySchema, response: FEED_RESPONSES }
  }, async (request, reply) => {
    const tag = await lookUp(app.db, 'tag', request.params.tag, (key) => findTag(app.db, key))
    if (tag === undefined) throw notFound(`Tag "${request.params.tag}"`)
    if ('moved' in tag) return redirectRenamed(request, reply, request.params.tag, tag.moved.slug)
    const { id, name } = tag.found
    return sendFeed(request, reply, request.query, { name: `tag:${id}`, title: `Posts tagged ${name}`, description: tag.found.description || `Posts tagged ${name}.`, filter: { tagIds: [id] }, surrogateKeys: [`tag:${id}`] })
  })
}
