import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { notFound, problemResponses } from '../../http/errors.ts'
import { pageByKey } from '../../http/pagination.ts'
import { lookUp, redirectRenamed } from '../lookup.ts'
import { setEtagVersion, setLastModified, setSurrogateKeys } from '../../http/caching.ts'
import { toBlog } from './blogs.mapper.ts'
import { findBlog, listBlogs } from './blogs.repository.ts'
import {
  BlogPageSchema, BlogParamsSchema, BlogResponseSchema, BlogSchema, CreateBlogSchema, DeleteBlogQuerySchema, ListBlogsQuerySchema,
  UpdateBlogSchema
} from './blogs.schemas.ts'
import { AppError } from '../../http/errors.ts'
import { parseIdOrSlug, pickDefined } from '../identifiers.ts'
import { postChangesFor, registerResourceWrites } from '../resource-writes.ts'
import { deletePostsOfBlog, movePostsToBlog, postIdsOf } from '../posts/posts.writes.repository.ts'

const BLOG_CURSOR = 'blogs'

export const blogsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/v1/blogs', {
    config: { access: 'public' },
    schema: {
      tags: ['Blogs'],
      operationId: 'listBlogs',
      summary: 'List blogs',
      description: 'Every blog of the network, in slug order, a page at a time.',
      querystring: ListBlogsQuerySchema,
      response: { 200: BlogPageSchema.describe('A page of blogs.'), ...problemResponses(400) }
    }
  }, async (request, reply) => {
    const page = await pageByKey(request, app.config.publicBaseUrl, BLOG_CURSOR, request.query,
      (afterSlug, limit) => listBlogs(app.db, { limit, afterSlug }), (row) => row.slug)
    setSurrogateKeys(reply, ['blogs:list', ...page.items.map((row) => `blog:${row.id}`)])
    return { data: page.items.map(toBlog), meta: page.meta, links: page.links }
  })

  app.get('/v1/blogs/:blog', {
    config: { access: 'public' },
    schema: {
      tags: ['Blogs'],
      operationId: 'getBlog',
      summary: 'Get a blog',
      description: 'One blog, by id or slug, with its "About this blog" text. A renamed slug answers 308.',
      params: BlogParamsSchema,
      response: {
        200: BlogResponseSchema.describe('The blog.'),
        308: z.undefined().describe('Renamed: `Location` has the canonical URL.'),
        ...problemResponses(400, 404)
      }
    }
  }, async (request, reply) => {
    const blog = await lookUp(app.db, 'blog', request.params.blog, (key) => findBlog(app.db, key))
    if (blog === undefined) throw notFound(`Blog "${request.params.blog}"`)
    if ('moved' in blog) return redirectRenamed(request, reply, request.params.blog, blog.moved.slug)
    setLastModified(reply, blog.found.updated_at)
    setEtagVersion(reply, blog.found.version)
    setSurrogateKeys(reply, [`blog:${blog.found.id}`])
    return { data: toBlog(blog.found) }
  })
}

export const blogWritesRoutes: FastifyPluginAsyncZod = async (app) => {
  registerResourceWrites(app, {
    entity: 'blog',
    table: 'blogs',
    path: '/v1/blogs',
    param: 'blog',
    tag: 'Blogs',
    label: 'blog',
    titleOf: (body) => body.title,
    createSchema: CreateBlogSchema,
    updateSchema: UpdateBlogSchema,
    deleteQuerySchema: DeleteBlogQuerySchema,
    responseSchema: BlogSchema,
    find: (db, key) => findBlog(db, key),
    toApi: toBlog,
    toColumns: (body) => pickDefined({ slug: body.slug, title: body.title, description: body.description, language: body.language }),
    deleteDescription: 'A blog that still has posts is a 409, unless the request says what to do with them: ' +
      '`move_posts_to=<blog>` moves them, `delete_posts=true` deletes them with it.',
    beforeDelete: async (tx, blog, query) => {
      const postIds = await postIdsOf(tx, { blogId: blog.id })
      if (postIds.length === 0) return []
      if (query.move_posts_to !== undefined) {
        const key = parseIdOrSlug(query.move_posts_to)
        const target = key === undefined ? undefined : await findBlog(tx, key)
        if (target === undefined || target.id === blog.id) {
          throw new AppError(422, 'unknown_reference', `move_posts_to names no other blog: "${query.move_posts_to}".`,
            { errors: [{ path: 'query.move_posts_to', message: 'names no other blog' }] })
        }
        const changes = await postChangesFor(tx, postIds, 'upsert')
        await movePostsToBlog(tx, blog.id, target.id)
        return changes.map((change) => ({ ...change, blogId: target.id }))
      }
      if (query.delete_posts === 'true') {
        const changes = await postChangesFor(tx, postIds, 'delete')
        await deletePostsOfBlog(tx, blog.id)
        return changes
      }
      throw new AppError(409, 'blog_has_posts',
        `The blog still has ${postIds.length} post(s). Say what to do with them: move_posts_to=<blog> or delete_posts=true.`)
    }
  })
}
