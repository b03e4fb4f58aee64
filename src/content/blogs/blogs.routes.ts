import { blogKeys } from '../../changes/surrogate-keys.ts'
import { AppError } from '../../http/errors.ts'
import { routePlugin } from '../../http/route-plugin.ts'
import { BLOGS } from '../addressing/addressables.ts'
import { pickDefined } from '../common/fields.ts'
import { normalizedPostUrlTemplate, normalizedWebsite } from '../common/site.ts'
import { deletePostsOfBlog, movePostsToBlog, postIdsOf } from '../posts/posts.writes.repository.ts'
import { postChangesFor } from '../posts/posts.writes.service.ts'
import { ownLastModified } from '../resources/last-modified.ts'
import { registerResourceRoutes } from '../resources/resource.routes.ts'
import { takeoverTarget } from '../resources/resource-writes.service.ts'
import { toBlog } from './blogs.mapper.ts'
import { listBlogs } from './blogs.repository.ts'
import { BLOG_SCHEMAS } from './blogs.schemas.ts'

export const blogsRoutes = routePlugin('blogs-routes', async (app) => {
  registerResourceRoutes(app, {
    address: BLOGS,
    table: 'blogs',
    path: '/v1/blogs',
    param: 'blog',
    openApiTag: 'Blogs',
    noun: 'blog',
    listDescription: 'Every blog of the network, in slug order, a page at a time.',
    getDescription: 'One blog, by id or slug, with its "About this blog" text.',
    schemas: BLOG_SCHEMAS,
    list: (db, page) => listBlogs(db, page),
    toApi: (row) => toBlog(row, app.config.site),
    surrogateKeys: blogKeys,
    lastModified: ownLastModified,
    titleOf: (body) => body.title,
    toColumns: (body) => pickDefined({
      slug: body.slug, title: body.title, description: body.description, language: body.language,
      website_url: typeof body.website_url === 'string' ? normalizedWebsite(body.website_url) : body.website_url,
      post_url_template: typeof body.post_url_template === 'string' ? normalizedPostUrlTemplate(body.post_url_template) : body.post_url_template,
      logo_url: body.logo_url, icon_url: body.icon_url, cover_image_url: body.cover_image_url,
      social_accounts: body.social_accounts === undefined ? undefined : JSON.stringify(body.social_accounts)
    }),
    deleteDescription: 'A blog that still has posts is a 409, unless the request says what to do with them: ' +
      '`move_posts_to=<blog>` moves them, `delete_posts=true` deletes them with it.',
    beforeDelete: async (tx, blog, query) => {
      const postIds = await postIdsOf(tx, { blogId: blog.id })
      if (postIds.length === 0) return []
      if (query.move_posts_to !== undefined) {
        const target = await takeoverTarget(tx, BLOGS, query.move_posts_to, blog.id, 'move_posts_to')
        const changes = await postChangesFor(tx, postIds, 'upsert')
        await movePostsToBlog(tx, blog.id, target.id)
        return changes.map((change) => ({ ...change, blogId: target.id }))
      }
      if (query.delete_posts === true) {
        const changes = await postChangesFor(tx, postIds, 'delete')
        await deletePostsOfBlog(tx, blog.id)
        return changes
      }
      throw new AppError(409, 'blog_has_posts',
        `The blog still has ${postIds.length} post(s). Say what to do with them: move_posts_to=<blog> or delete_posts=true.`)
    }
  })
})
