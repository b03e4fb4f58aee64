import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Transaction } from 'kysely'
import { uuidv7 } from 'uuidv7'
import { z } from 'zod'
import type { DB, EntityType } from '../db/schema.ts'
import { AppError, notFound, problemResponses } from '../http/errors.ts'
import { sendWrite } from '../http/idempotency.ts'
import { expectedVersion, preconditionFailed, versionEtag } from '../http/preconditions.ts'
import { recordChanges, type ChangeEntry } from './changes.repository.ts'
import { IdOrSlugSchema, parseIdOrSlug, type IdOrSlug } from './identifiers.ts'
import { postPublicity, touchPosts } from './posts/posts.writes.repository.ts'

/**
 * Change-log entries for posts a write is about to change (`upsert`, and their version is
 * bumped) or remove (`delete`). Call before changing them: publicity is read as it was.
 */
export async function postChangesFor (tx: Transaction<DB>, postIds: readonly string[], op: 'upsert' | 'delete'): Promise<ChangeEntry[]> {
  const posts = await postPublicity(tx, postIds)
  if (op === 'upsert') await touchPosts(tx, postIds)
  return posts.map((post) => ({
    entityType: 'post' as const, entityId: post.id, blogId: post.blog_id, op, publicOp: post.visible ? op : null
  }))
}
import {
  currentVersion, deleteResource, deleteSlugRedirectsTo, insertResource, recordSlugRename, slugTaken, updateResource,
  type ResourceTable
} from './resources.repository.ts'
import { slugify, uniqueSlug } from './slugs.ts'

// POST, PATCH and DELETE for blogs, authors and tags: the three share slugs, versions,
// redirects on rename and the change log, and differ in their fields and in what deleting one
// does to its posts. Each module describes itself with a ResourceWriteSpec.

type Tx = Transaction<DB>

export interface ResourceWriteSpec<Row extends { id: string, slug: string, version: number }, Api, Create extends z.ZodObject, Update extends z.ZodType, DeleteQuery extends z.ZodObject> {
  entity: Exclude<EntityType, 'post'>
  table: ResourceTable
  path: string
  param: string
  tag: string
  label: string
  /** The field a slug is derived from when none is given. */
  titleOf: (body: z.infer<Create>) => string
  createSchema: Create
  updateSchema: Update
  deleteQuerySchema: DeleteQuery
  responseSchema: z.ZodType
  find: (db: Tx | FastifyInstance['db'], key: IdOrSlug) => Promise<Row | undefined>
  toApi: (row: Row) => Api
  toColumns: (body: Partial<z.infer<Create>>) => Record<string, unknown>
  /** Deals with the posts of a resource about to be deleted; returns their change-log entries. */
  beforeDelete: (tx: Tx, row: Row, query: z.infer<DeleteQuery>) => Promise<ChangeEntry[]>
  deleteDescription: string
}

const SECURITY = [{ bearerAuth: [] }]

export function registerResourceWrites<Row extends { id: string, slug: string, version: number }, Api, Create extends z.ZodObject, Update extends z.ZodType, DeleteQuery extends z.ZodObject> (
  instance: FastifyInstance, spec: ResourceWriteSpec<Row, Api, Create, Update, DeleteQuery>
): void {
  const app = instance.withTypeProvider<ZodTypeProvider>()
  const { entity, table, label } = spec
  const name = label.charAt(0).toUpperCase() + label.slice(1)
  const params = z.object({ [spec.param]: IdOrSlugSchema })
  const response = z.object({ data: spec.responseSchema })

  const loadForWrite = async (tx: Tx, ref: string): Promise<Row> => {
    const key = parseIdOrSlug(ref)
    const row = key === undefined ? undefined : await spec.find(tx, key)
    if (row === undefined) throw notFound(`${name} "${ref}"`)
    return row
  }
  const reply = async (tx: Tx, id: string, status: number) => {
    const row = await spec.find(tx, { id })
    if (row === undefined) throw notFound(`${name} "${id}"`)
    return {
      status,
      body: { data: spec.toApi(row) },
      headers: { etag: versionEtag(row.version), ...(status === 201 ? { location: `${spec.path}/${row.id}` } : {}) }
    }
  }
  const change = (id: string, op: 'upsert' | 'delete', created = false): ChangeEntry =>
    ({ entityType: entity, entityId: id, blogId: entity === 'blog' ? id : null, op, publicOp: op, event: created ? `${entity}.created` : undefined })

  app.post(spec.path, {
    config: { access: 'content:write' },
    schema: {
      tags: [spec.tag],
      operationId: `create${name}`,
      summary: `Create ${label === 'author' ? 'an' : 'a'} ${label}`,
      description: `The slug is derived from the ${label === 'blog' ? 'title' : 'name'} when not given. Send an Idempotency-Key to make retries safe.`,
      security: SECURITY,
      body: spec.createSchema,
      response: { 201: response.describe(`The new ${label}; Location has its URL, ETag its version.`), ...problemResponses(400, 401, 403, 409, 415, 422) }
    }
  }, async (request, res) => sendWrite(app.db, request, res, async (tx) => {
    const body = request.body as z.infer<Create>
    const given = (body as { slug?: string }).slug
    if (given !== undefined && await slugTaken(tx, table, given)) {
      throw new AppError(409, 'slug_taken', `Another ${label} already has the slug "${given}".`)
    }
    const slug = given ?? await uniqueSlug(slugify(spec.titleOf(body), label), (candidate) => slugTaken(tx, table, candidate))
    const id = uuidv7()
    await insertResource(tx, table, { ...spec.toColumns(body), id, slug })
    await recordChanges(tx, [change(id, 'upsert', true)])
    return reply(tx, id, 201)
  }))

  app.patch(`${spec.path}/:${spec.param}`, {
    config: { access: 'content:write' },
    schema: {
      tags: [spec.tag],
      operationId: `update${name}`,
      summary: `Update ${label === 'author' ? 'an' : 'a'} ${label}`,
      description: 'Changes the fields given. With If-Match, only while the version is still the one named (412 otherwise). ' +
        'A new slug keeps the old one working: it answers 308 to the new URL.',
      security: SECURITY,
      params,
      body: spec.updateSchema,
      response: { 200: response.describe(`The ${label} as it is now; ETag has its new version.`), ...problemResponses(400, 401, 403, 404, 409, 412, 415) }
    }
  }, async (request, res) => sendWrite(app.db, request, res, async (tx) => {
    const version = expectedVersion(request)
    const row = await loadForWrite(tx, (request.params as Record<string, string>)[spec.param] as string)
    const body = request.body as Partial<z.infer<Create>>
    const newSlug = (body as { slug?: string }).slug
    if (newSlug !== undefined && newSlug !== row.slug && await slugTaken(tx, table, newSlug, row.id)) {
      throw new AppError(409, 'slug_taken', `Another ${label} already has the slug "${newSlug}".`)
    }
    const updated = await updateResource(tx, table, row.id, spec.toColumns(body), version)
    if (updated === undefined) throw preconditionFailed(await currentVersion(tx, table, row.id) ?? row.version)
    if (updated.slug !== row.slug) await recordSlugRename(tx, entity, null, row.slug, updated.slug, row.id)
    await recordChanges(tx, [change(row.id, 'upsert')])
    return reply(tx, row.id, 200)
  }))

  app.delete(`${spec.path}/:${spec.param}`, {
    config: { access: 'content:write' },
    schema: {
      tags: [spec.tag],
      operationId: `delete${name}`,
      summary: `Delete ${label === 'author' ? 'an' : 'a'} ${label}`,
      description: spec.deleteDescription,
      security: SECURITY,
      params,
      querystring: spec.deleteQuerySchema,
      response: { 204: z.undefined().describe('Deleted.'), ...problemResponses(400, 401, 403, 404, 409, 412, 422) }
    }
  }, async (request, res) => sendWrite(app.db, request, res, async (tx) => {
    const version = expectedVersion(request)
    const row = await loadForWrite(tx, (request.params as Record<string, string>)[spec.param] as string)
    if (version !== undefined && version !== row.version) throw preconditionFailed(row.version)
    const postChanges = await spec.beforeDelete(tx, row, request.query as z.infer<DeleteQuery>)
    await deleteSlugRedirectsTo(tx, row.id)
    if (!await deleteResource(tx, table, row.id, version)) throw preconditionFailed(await currentVersion(tx, table, row.id) ?? row.version)
    await recordChanges(tx, [change(row.id, 'delete'), ...postChanges])
    return { status: 204, body: null }
  }))
}
