import { bylineKeys } from '../../changes/surrogate-keys.ts'
import { AppError } from '../../http/errors.ts'
import { routePlugin } from '../../http/route-plugin.ts'
import { AUTHORS } from '../addressing/addressables.ts'
import { pickDefined } from '../common/fields.ts'
import { postIdsOf, reassignAuthor, removeFromPosts } from '../posts/posts.writes.repository.ts'
import { postChangesFor } from '../posts/posts.writes.service.ts'
import { bylineLastModified } from '../resources/last-modified.ts'
import { registerResourceRoutes } from '../resources/resource.routes.ts'
import { takeoverTarget } from '../resources/resource-writes.service.ts'
import { toAuthor } from './authors.mapper.ts'
import { listAuthors } from './authors.repository.ts'
import { bylineOptions, withPostCount } from '../resources/byline.service.ts'
import type { BylineListQuery } from '../resources/byline.schemas.ts'
import { AUTHOR_SCHEMAS } from './authors.schemas.ts'

export const authorsRoutes = routePlugin('authors-routes', async (app) => {
  registerResourceRoutes(app, {
    address: AUTHORS,
    table: 'authors',
    path: '/v1/authors',
    param: 'author',
    openApiTag: 'Authors',
    noun: 'author',
    listDescription: 'Every author, in slug order, a page at a time, with the time of their latest post.',
    getDescription: 'One author, by id or slug: what a profile page needs.',
    schemas: AUTHOR_SCHEMAS,
    list: async (db, page, query) => listAuthors(db, page, await bylineOptions(db, query as BylineListQuery)),
    expand: (db, row, query) => withPostCount(db, 'post_authors', row, query),
    toApi: toAuthor,
    surrogateKeys: (ids, list) => bylineKeys('author', ids, list),
    lastModified: bylineLastModified,
    titleOf: (body) => body.name,
    toColumns: (body) => pickDefined({
      slug: body.slug, name: body.name, bio: body.bio, avatar_url: body.avatar_url,
      links: body.links === undefined ? undefined : JSON.stringify(body.links)
    }),
    deleteDescription: 'An author credited on posts is a 409, unless the request says what to do: ' +
      '`reassign_posts_to=<author>` credits another author instead, `remove_from_posts=true` takes the byline off.',
    beforeDelete: async (tx, author, query) => {
      const postIds = await postIdsOf(tx, { authorId: author.id })
      if (postIds.length === 0) return []
      if (query.reassign_posts_to !== undefined) {
        const target = await takeoverTarget(tx, AUTHORS, query.reassign_posts_to, author.id, 'reassign_posts_to')
        const changes = await postChangesFor(tx, postIds, 'upsert')
        await reassignAuthor(tx, author.id, target.id)
        return changes
      }
      if (query.remove_from_posts === true) {
        const changes = await postChangesFor(tx, postIds, 'upsert')
        await removeFromPosts(tx, { authorId: author.id })
        return changes
      }
      throw new AppError(409, 'author_has_posts',
        `The author is credited on ${postIds.length} post(s). Say what to do: reassign_posts_to=<author> or remove_from_posts=true.`)
    }
  })
})

