import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { Transaction } from 'kysely'
import { z } from 'zod'
import type { DB } from '../../db/schema.ts'
import { badRequest, notFound, problemResponses } from '../../http/errors.ts'
import { isMergePatch } from '../../http/media-types.ts'
import { sendWrite, type WriteResult } from '../../http/write-reply.ts'
import { ifMatch, versionEtag } from '../../http/preconditions.ts'
import { toPost } from './posts.mapper.ts'
import { linksFor, type Links } from '../common/site.ts'
import { findPostById } from './posts.repository.ts'
import { CreatePostSchema, PostIdParamsSchema, PublishPostSchema, UpdatePostSchema, WrittenPostResponseSchema } from './posts.schemas.ts'
import { createPost, deletePost, editPost, publishPost, unpublishPost } from './posts.writes.service.ts'
import { routePlugin } from '../../http/route-plugin.ts'

const SECURITY = [{ bearerAuth: [] }]
const WRITE = { access: 'content:write' as const }
/** A POST that takes an Idempotency-Key. */
const IDEMPOTENT_WRITE = { ...WRITE, idempotent: true }

const postWritesPlugin: FastifyPluginAsyncZod = async (app) => {
  // The post as an editor sees it after the write, with the version ETag for the next If-Match.
  async function written (tx: Transaction<DB>, id: string, links: Links, status = 200): Promise<WriteResult> {
    const row = await findPostById(tx, id, 'preview')
    if (row === undefined) throw notFound(`Post "${id}"`)
    return {
      status,
      body: { data: toPost(row, links) },
      headers: { etag: versionEtag(row.version), ...(status === 201 ? { location: `/v1/posts/${id}` } : {}) }
    }
  }
  const ok = (description: string) => ({ 200: WrittenPostResponseSchema.describe(description) })

  app.post('/v1/posts', {
    config: IDEMPOTENT_WRITE,
    schema: {
      tags: ['Posts'],
      operationId: 'createPost',
      summary: 'Create a post',
      description: 'A draft unless `status: published`. Authors and tags by id or slug; an unknown one is a 422 naming it, ' +
        'and nothing is written. A body that cannot be rendered within its time budget is a 422 naming the field. Send an Idempotency-Key to make retries safe.',
      security: SECURITY,
      body: CreatePostSchema,
      response: { 201: WrittenPostResponseSchema.describe('The new post; Location has its URL, ETag its version.'), ...problemResponses(400, 401, 403, 409, 413, 415, 422) }
    }
  }, async (request, reply) => {
    const rendered = await app.bodyRenderer.render(request.body)
    return sendWrite(app.db, request, reply, async (tx) => written(tx, await createPost(tx, request.body, rendered), linksFor(request), 201))
  })

  app.patch('/v1/posts/:id', {
    config: WRITE,
    schema: {
      tags: ['Posts'],
      operationId: 'updatePost',
      summary: 'Update a post',
      description: 'Changes the fields given (a JSON Merge Patch, RFC 7396, sent as application/json or application/merge-patch+json): ' +
        'null clears a field, `authors` and `tags` replace the lists. `lead_image` replaces the image whole as application/json and ' +
        'changes only the fields it gives as application/merge-patch+json. With If-Match, only while the version is ' +
        'still the one named (412 otherwise). A new slug keeps the old URL working with a 308.',
      security: SECURITY,
      params: PostIdParamsSchema,
      body: UpdatePostSchema,
      response: { ...ok('The post as it is now.'), ...problemResponses(400, 401, 403, 404, 409, 412, 413, 415, 422) }
    }
  }, async (request, reply) => {
    const merges = isMergePatch(request)
    const image = request.body.lead_image
    if (!merges && image != null && image.url === undefined) {
      throw badRequest('validation_failed', 'As application/json a lead_image replaces the post\'s whole: give its url, or send application/merge-patch+json to change only some of its fields.',
        [{ path: 'body.lead_image.url', message: 'is required as application/json' }])
    }
    const rendered = await app.bodyRenderer.render(request.body)
    return sendWrite(app.db, request, reply, async (tx) =>
      written(tx, await editPost(tx, request.params.id, request.body, rendered, ifMatch(request), merges), linksFor(request)))
  })

  app.delete('/v1/posts/:id', {
    config: WRITE,
    schema: {
      tags: ['Posts'],
      operationId: 'deletePost',
      summary: 'Delete a post',
      description: 'A soft delete: the post disappears from every public list, feed and lookup; the change log records a delete.',
      security: SECURITY,
      params: PostIdParamsSchema,
      response: { 204: z.undefined().describe('Deleted.'), ...problemResponses(400, 401, 403, 404, 412) }
    }
  }, async (request, reply) => sendWrite(app.db, request, reply, async (tx) => {
    await deletePost(tx, request.params.id, ifMatch(request))
    return { status: 204, body: null }
  }))

  app.post('/v1/posts/:id/publish', {
    config: IDEMPOTENT_WRITE,
    schema: {
      tags: ['Posts'],
      operationId: 'publishPost',
      summary: 'Publish or schedule a post',
      description: 'Publishes now, or at `at`: a future time schedules the post, and it appears by itself when the time comes.',
      security: SECURITY,
      params: PostIdParamsSchema,
      body: PublishPostSchema.nullish().describe('Optional: without a body, the post is published now.'),
      response: { ...ok('The post, published or scheduled.'), ...problemResponses(400, 401, 403, 404, 412, 415) }
    }
  }, async (request, reply) => sendWrite(app.db, request, reply, async (tx) =>
    written(tx, await publishPost(tx, request.params.id, request.body?.at, ifMatch(request)), linksFor(request))))

  app.post('/v1/posts/:id/unpublish', {
    config: IDEMPOTENT_WRITE,
    schema: {
      tags: ['Posts'],
      operationId: 'unpublishPost',
      summary: 'Unpublish a post',
      description: 'Back to draft: the post leaves every public list and feed; the change log records a delete for public readers.',
      security: SECURITY,
      params: PostIdParamsSchema,
      response: { ...ok('The post, now a draft.'), ...problemResponses(400, 401, 403, 404, 412) }
    }
  }, async (request, reply) => sendWrite(app.db, request, reply, async (tx) =>
    written(tx, await unpublishPost(tx, request.params.id, ifMatch(request)), linksFor(request))))
}

export const postWritesRoutes = routePlugin('post-writes-routes', postWritesPlugin, ['body-renderer'])
