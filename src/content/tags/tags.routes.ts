import { bylineKeys } from '../../changes/surrogate-keys.ts'
import { routePlugin } from '../../http/route-plugin.ts'
import { TAGS } from '../addressing/addressables.ts'
import { pickDefined } from '../common/fields.ts'
import { postIdsOf, removeFromPosts } from '../posts/posts.writes.repository.ts'
import { postChangesFor } from '../posts/posts.writes.service.ts'
import { bylineLastModified } from '../resources/last-modified.ts'
import { registerResourceRoutes } from '../resources/resource.routes.ts'
import { toTag } from './tags.mapper.ts'
import { listTags } from './tags.repository.ts'
import { bylineOptions, withPostCount } from '../resources/byline.service.ts'
import type { BylineListQuery } from '../resources/byline.schemas.ts'
import { TAG_SCHEMAS } from './tags.schemas.ts'

export const tagsRoutes = routePlugin('tags-routes', async (app) => {
  registerResourceRoutes(app, {
    address: TAGS,
    table: 'tags',
    path: '/v1/tags',
    param: 'tag',
    openApiTag: 'Tags',
    noun: 'tag',
    listDescription: 'Every tag, in slug order, a page at a time, with the time of its latest post.',
    getDescription: 'One tag, by id or slug: what a topic page needs.',
    schemas: TAG_SCHEMAS,
    list: async (db, page, query) => listTags(db, page, await bylineOptions(db, query as BylineListQuery)),
    expand: (db, row, query) => withPostCount(db, 'post_tags', row, query),
    toApi: toTag,
    surrogateKeys: (ids, list) => bylineKeys('tag', ids, list),
    lastModified: bylineLastModified,
    titleOf: (body) => body.name,
    toColumns: (body) => pickDefined({ slug: body.slug, name: body.name, description: body.description }),
    deleteDescription: 'Deleting a tag takes it off every post that had it; the posts stay.',
    beforeDelete: async (tx, tag) => {
      const postIds = await postIdsOf(tx, { tagId: tag.id })
      const changes = await postChangesFor(tx, postIds, 'upsert')
      await removeFromPosts(tx, { tagId: tag.id })
      return changes
    }
  })
})
