import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { setEtagVersion, setSurrogateKeys } from '../../http/caching.ts'
import { notFound, problemResponses } from '../../http/errors.ts'
import { pageByKey } from '../../http/pagination.ts'
import { lookUp, redirectRenamed } from '../lookup.ts'
import { toTag } from './tags.mapper.ts'
import { findTag, listTags } from './tags.repository.ts'
import {
  CreateTagSchema, DeleteTagQuerySchema, ListTagsQuerySchema, TagPageSchema, TagParamsSchema, TagResponseSchema, TagSchema, UpdateTagSchema
} from './tags.schemas.ts'
import { pickDefined } from '../identifiers.ts'
import { postChangesFor, registerResourceWrites } from '../resource-writes.ts'
import { postIdsOf, removeFromPosts } from '../posts/posts.writes.repository.ts'

const TAG_CURSOR = 'tags'

export const tagsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/v1/tags', {
    config: { access: 'public' },
    schema: {
      tags: ['Tags'],
      operationId: 'listTags',
      summary: 'List tags',
      description: 'Every tag, in slug order, a page at a time, with the time of its latest post.',
      querystring: ListTagsQuerySchema,
      response: { 200: TagPageSchema.describe('A page of tags.'), ...problemResponses(400) }
    }
  }, async (request, reply) => {
    const page = await pageByKey(request, app.config.publicBaseUrl, TAG_CURSOR, request.query,
      (afterSlug, limit) => listTags(app.db, { limit, afterSlug }), (row) => row.slug)
    setSurrogateKeys(reply, ['tags:list', ...page.items.map((row) => `tag:${row.id}`)])
    return { data: page.items.map(toTag), meta: page.meta, links: page.links }
  })

  app.get('/v1/tags/:tag', {
    config: { access: 'public' },
    schema: {
      tags: ['Tags'],
      operationId: 'getTag',
      summary: 'Get a tag',
      description: 'One tag, by id or slug: what a topic page needs. A renamed slug answers 308.',
      params: TagParamsSchema,
      response: {
        200: TagResponseSchema.describe('The tag.'),
        308: z.undefined().describe('Renamed: `Location` has the canonical URL.'),
        ...problemResponses(400, 404)
      }
    }
  }, async (request, reply) => {
    const tag = await lookUp(app.db, 'tag', request.params.tag, (key) => findTag(app.db, key))
    if (tag === undefined) throw notFound(`Tag "${request.params.tag}"`)
    if ('moved' in tag) return redirectRenamed(request, reply, request.params.tag, tag.moved.slug)
    setSurrogateKeys(reply, [`tag:${tag.found.id}`])
    setEtagVersion(reply, tag.found.version)
    return { data: toTag(tag.found) }
  })
}

export const tagWritesRoutes: FastifyPluginAsyncZod = async (app) => {
  registerResourceWrites(app, {
    entity: 'tag',
    table: 'tags',
    path: '/v1/tags',
    param: 'tag',
    tag: 'Tags',
    label: 'tag',
    titleOf: (body) => body.name,
    createSchema: CreateTagSchema,
    updateSchema: UpdateTagSchema,
    deleteQuerySchema: DeleteTagQuerySchema,
    responseSchema: TagSchema,
    find: (db, key) => findTag(db, key),
    toApi: toTag,
    toColumns: (body) => pickDefined({ slug: body.slug, name: body.name, description: body.description }),
    deleteDescription: 'Deleting a tag takes it off every post that had it; the posts stay.',
    beforeDelete: async (tx, tag) => {
      const postIds = await postIdsOf(tx, { tagId: tag.id })
      const changes = await postChangesFor(tx, postIds, 'upsert')
      await removeFromPosts(tx, { tagId: tag.id })
      return changes
    }
  })
}
