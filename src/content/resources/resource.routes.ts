import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { Transaction } from 'kysely'
import { z } from 'zod'
import type { DB } from '../../db/schema.ts'
import { setEtagVersion, setLastModified, setSurrogateKeys } from '../../http/caching.ts'
import { notFound, problemResponses } from '../../http/errors.ts'
import { pageByKey } from '../../http/pagination.ts'
import { ifMatch, versionEtag } from '../../http/preconditions.ts'
import { sendWrite, type WriteResult } from '../../http/write-reply.ts'
import { findOrRedirect, RenamedResponse } from '../addressing/find-or-redirect.ts'
import type { ResourceRow, ResourceSpec } from './resource.spec.ts'
import { createResource, deleteResourceWithPosts, updateResourceFields } from './resource-writes.service.ts'

// The routes of a blog, author or tag, made from its ResourceSpec: list and get (public), create,
// update and delete (content:write). Handlers parse (Zod did it), call, and reply.

const SECURITY = [{ bearerAuth: [] }]

export function registerResourceRoutes<Row extends ResourceRow, Create extends z.ZodObject, DeleteQuery extends z.ZodObject> (
  instance: FastifyInstance, spec: ResourceSpec<Row, Create, DeleteQuery>
): void {
  const app = instance.withTypeProvider<ZodTypeProvider>()
  const { noun, path, param } = spec
  const Name = noun.charAt(0).toUpperCase() + noun.slice(1)
  const article = /^[aeiou]/.test(noun) ? 'an' : 'a'
  const tags = [spec.openApiTag]
  const itemPath = `${path}/:${param}`
  const refOf = (params: unknown) => (params as Record<string, string>)[param] as string
  const written = z.object({ data: spec.schemas.item })

  // The resource as an editor sees it after a write, with the version ETag for the next If-Match.
  const writeResult = async (tx: Transaction<DB>, id: string, status: number): Promise<WriteResult> => {
    const row = await spec.address.find(tx, { id })
    if (row === undefined) throw notFound(`${Name} "${id}"`)
    return {
      status,
      body: { data: spec.toApi(row) },
      headers: { etag: versionEtag(row.version), ...(status === 201 ? { location: `${path}/${row.id}` } : {}) }
    }
  }

  app.get(path, {
    config: { access: 'public' },
    schema: {
      tags,
      operationId: `list${Name}s`,
      summary: `List ${noun}s`,
      description: spec.listDescription,
      querystring: spec.schemas.listQuery,
      response: { 200: spec.schemas.page.describe(`A page of ${noun}s.`), ...problemResponses(400) }
    }
  }, async (request, reply) => {
    const page = await pageByKey(request, `${noun}s`, request.query as { limit: number, cursor?: string },
      (afterSlug, limit) => spec.list(app.db, { limit, afterSlug }, request.query as Record<string, unknown>), (row) => row.slug)
    setSurrogateKeys(reply, spec.surrogateKeys(page.items.map((row) => row.id), true))
    return { data: page.items.map(spec.toApi), meta: page.meta, links: page.links }
  })

  app.get(itemPath, {
    config: { access: 'public' },
    schema: {
      tags,
      operationId: `get${Name}`,
      summary: `Get ${article} ${noun}`,
      description: `${spec.getDescription} A renamed slug answers 308.`,
      params: spec.schemas.params,
      querystring: spec.schemas.getQuery,
      response: { 200: spec.schemas.response.describe(`The ${noun}.`), ...RenamedResponse, ...problemResponses(400, 404) }
    }
  }, async (request, reply) => {
    const found = await findOrRedirect(request, spec.address, refOf(request.params))
    const row = spec.expand === undefined ? found : await spec.expand(app.db, found, request.query as Record<string, unknown>)
    setLastModified(reply, spec.lastModified(row))
    setEtagVersion(reply, row.version)
    setSurrogateKeys(reply, spec.surrogateKeys([row.id], false))
    return { data: spec.toApi(row) }
  })

  app.post(path, {
    config: { access: 'content:write', idempotent: true },
    schema: {
      tags,
      operationId: `create${Name}`,
      summary: `Create ${article} ${noun}`,
      description: `The slug is derived from the ${noun === 'blog' ? 'title' : 'name'} when not given. Send an Idempotency-Key to make retries safe.`,
      security: SECURITY,
      body: spec.schemas.create,
      response: { 201: written.describe(`The new ${noun}; Location has its URL, ETag its version.`), ...problemResponses(400, 401, 403, 409, 415, 422) }
    }
  }, async (request, reply) => sendWrite(app.db, request, reply, async (tx) =>
    writeResult(tx, await createResource(tx, spec as unknown as ResourceSpec<ResourceRow, Create>, request.body as z.infer<Create>), 201)))

  app.patch(itemPath, {
    config: { access: 'content:write' },
    schema: {
      tags,
      operationId: `update${Name}`,
      summary: `Update ${article} ${noun}`,
      description: 'Changes the fields given. With If-Match, only while the version is still the one named (412 otherwise). ' +
        'A new slug keeps the old one working: it answers 308 to the new URL.',
      security: SECURITY,
      params: spec.schemas.params,
      body: spec.schemas.update,
      response: { 200: written.describe(`The ${noun} as it is now; ETag has its new version.`), ...problemResponses(400, 401, 403, 404, 409, 412, 415) }
    }
  }, async (request, reply) => sendWrite(app.db, request, reply, async (tx) =>
    writeResult(tx, await updateResourceFields(tx, spec as unknown as ResourceSpec, refOf(request.params), request.body as Record<string, unknown>, ifMatch(request)), 200)))

  app.delete(itemPath, {
    config: { access: 'content:write' },
    schema: {
      tags,
      operationId: `delete${Name}`,
      summary: `Delete ${article} ${noun}`,
      description: spec.deleteDescription,
      security: SECURITY,
      params: spec.schemas.params,
      querystring: spec.schemas.deleteQuery,
      response: { 204: z.undefined().describe('Deleted.'), ...problemResponses(400, 401, 403, 404, 409, 412, 422) }
    }
  }, async (request, reply) => sendWrite(app.db, request, reply, async (tx) => {
    await deleteResourceWithPosts(tx, spec as unknown as ResourceSpec<ResourceRow, z.ZodObject, DeleteQuery>, refOf(request.params),
      request.query as z.infer<DeleteQuery>, ifMatch(request))
    return { status: 204, body: null }
  }))
}
