import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { isUuid } from '../../content/addressing/identifiers.ts'
import { notFound, problemResponses } from '../../http/errors.ts'
import { pageByKey } from '../../http/pagination.ts'
import { routePlugin } from '../../http/route-plugin.ts'
import { findApiKey, listApiKeys, revokeApiKey } from './api-keys.repository.ts'
import {
  ApiKeyPageSchema, ApiKeyParamsSchema, ApiKeyResponseSchema, CreateApiKeyBodySchema, CreatedApiKeySchema, ListApiKeysQuerySchema
} from './api-keys.schemas.ts'
import { createApiKey, toApiKey } from './api-keys.service.ts'

const KEY_CURSOR = 'api-keys'
const SECURITY = [{ bearerAuth: [] }]

const apiKeysPlugin: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/api-keys', {
    config: { access: 'admin' },
    schema: {
      tags: ['API keys'],
      operationId: 'createApiKey',
      summary: 'Create an API key',
      description: 'The response carries the whole key, once; only a hash of its secret is stored.',
      security: SECURITY,
      body: CreateApiKeyBodySchema,
      response: { 201: CreatedApiKeySchema.describe('The new key.'), ...problemResponses(400, 401, 403, 415, 422) }
    }
  }, async (request, reply) => {
    const { row, key } = await createApiKey(app.db, request.body.name, request.body.scopes, request.body.format)
    reply.code(201).header('location', `/v1/api-keys/${row.id}`).header('cache-control', 'no-store')
    return { data: { ...toApiKey(row), key } }
  })

  app.get('/v1/api-keys', {
    config: { access: 'admin' },
    schema: {
      tags: ['API keys'],
      operationId: 'listApiKeys',
      summary: 'List API keys',
      description: 'Every key, revoked ones included, oldest first. Secrets are never shown again.',
      security: SECURITY,
      querystring: ListApiKeysQuerySchema,
      response: { 200: ApiKeyPageSchema.describe('A page of keys.'), ...problemResponses(400, 401, 403) }
    }
  }, async (request, reply) => {
    const page = await pageByKey(request, KEY_CURSOR, request.query,
      (afterId, limit) => listApiKeys(app.db, { limit, afterId }), (row) => row.id)
    reply.header('cache-control', 'private, no-store')
    return { data: page.items.map(toApiKey), meta: page.meta, links: page.links }
  })

  app.delete('/v1/api-keys/:id', {
    config: { access: 'admin' },
    schema: {
      tags: ['API keys'],
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key',
      description: 'The key stops working at once, in every process. Revoking twice is a 404 the second time.',
      security: SECURITY,
      params: ApiKeyParamsSchema,
      response: { 200: ApiKeyResponseSchema.describe('The revoked key.'), ...problemResponses(401, 403, 404) }
    }
  }, async (request, reply) => {
    const { id } = request.params
    const row = isUuid(id) ? await revokeApiKey(app.db, id.toLowerCase()) : undefined
    if (row === undefined) {
      const exists = isUuid(id) ? await findApiKey(app.db, id.toLowerCase()) : undefined
      throw notFound(exists === undefined ? `API key "${id}"` : `An active API key "${id}"`)
    }
    reply.header('cache-control', 'no-store')
    return { data: toApiKey(row) }
  })
}

export const apiKeysRoutes = routePlugin('api-keys-routes', apiKeysPlugin)
