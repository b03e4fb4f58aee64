import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { uuidv7 } from 'uuidv7'
import { z } from 'zod'
import { Gauge } from 'prom-client'
import { isUuid } from '../../content/addressing/identifiers.ts'
import { pickDefined } from '../../content/common/fields.ts'
import { AppError, notFound, problemResponses } from '../../http/errors.ts'
import { pageByKey } from '../../http/pagination.ts'
import { routePlugin } from '../../http/route-plugin.ts'
import {
  deleteWebhook, findWebhook, insertWebhook, listDeliveries, listWebhooks, pendingDeliveryCount, requeueDelivery, updateWebhook,
  type DeliveryRow, type WebhookRow
} from './webhooks.repository.ts'
import {
  CreatedWebhookSchema, CreateWebhookSchema, DeliveryPageSchema, DeliveryParamsSchema, DeliveryResponseSchema, ListQuerySchema,
  UpdateWebhookSchema, WebhookPageSchema, WebhookParamsSchema, WebhookResponseSchema
} from './webhooks.schemas.ts'
import { generateWebhookSecret } from './signing.ts'
import { refusedTarget } from './targets.ts'

const SECURITY = [{ bearerAuth: [] }]
const ADMIN = { access: 'admin' as const }

function toWebhook (row: WebhookRow) {
  return { ...row, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() }
}

function toDelivery (row: DeliveryRow) {
  return {
    id: row.id,
    event: row.event_type,
    change_seq: Number(row.change_seq),
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    created_at: row.created_at.toISOString(),
    delivered_at: row.delivered_at?.toISOString() ?? null
  }
}

const webhooksPlugin: FastifyPluginAsyncZod = async (app) => {
  new Gauge({
    name: 'webhook_deliveries_pending',
    help: 'Webhook deliveries waiting to be sent or retried.',
    registers: [app.metrics.registry],
    async collect () {
      // A scrape during an outage still answers, without this one number.
      try { this.set(await pendingDeliveryCount(app.db)) } catch { this.reset() }
    }
  })

  const settings = app.config.webhooks
  const checkTarget = async (url: string) => {
    const refused = await refusedTarget(url, settings.allowPrivateTargets)
    if (refused !== undefined) {
      throw new AppError(422, 'webhook_target_refused', `${refused}; webhooks may only call public addresses.`,
        { errors: [{ path: 'body.url', message: refused }] })
    }
  }
  const load = async (id: string) => {
    const row = isUuid(id) ? await findWebhook(app.db, id.toLowerCase()) : undefined
    if (row === undefined) throw notFound(`Webhook "${id}"`)
    return row
  }
  const tags = ['Webhooks']

  app.post('/v1/webhooks', {
    config: ADMIN,
    schema: {
      tags, security: SECURITY, operationId: 'createWebhook', summary: 'Create a webhook',
      description: 'Deliveries are signed the Standard Webhooks way; the secret is in this response only.',
      body: CreateWebhookSchema,
      response: { 201: CreatedWebhookSchema.describe('The webhook and its secret.'), ...problemResponses(400, 401, 403, 415, 422) }
    }
  }, async (request, reply) => {
    await checkTarget(request.body.url)
    const secret = generateWebhookSecret()
    const row = await insertWebhook(app.db, {
      id: uuidv7(), url: request.body.url, description: request.body.description ?? '', event_types: [...new Set(request.body.event_types)],
      secret, is_active: request.body.is_active ?? true
    })
    reply.code(201).header('location', `/v1/webhooks/${row.id}`).header('cache-control', 'no-store')
    return { data: { ...toWebhook(row), secret } }
  })

  app.get('/v1/webhooks', {
    config: ADMIN,
    schema: { tags, security: SECURITY, operationId: 'listWebhooks', summary: 'List webhooks', description: 'Every webhook, oldest first, a page at a time (follow `meta.next_cursor`). A secret is shown only in the answer that created it.', querystring: ListQuerySchema, response: { 200: WebhookPageSchema.describe('A page of webhooks.'), ...problemResponses(400, 401, 403) } }
  }, async (request, reply) => {
    const page = await pageByKey(request, 'webhooks', request.query,
      (afterId, limit) => listWebhooks(app.db, { limit, afterId }), (row) => row.id)
    reply.header('cache-control', 'private, no-store')
    return { data: page.items.map(toWebhook), meta: page.meta, links: page.links }
  })

  app.get('/v1/webhooks/:id', {
    config: ADMIN,
    schema: { tags, security: SECURITY, operationId: 'getWebhook', summary: 'Get a webhook', description: 'Its target, the events it gets and whether it is active; what was sent to it is at `/v1/webhooks/{id}/deliveries`.', params: WebhookParamsSchema, response: { 200: WebhookResponseSchema.describe('The webhook.'), ...problemResponses(401, 403, 404) } }
  }, async (request, reply) => {
    reply.header('cache-control', 'private, no-store')
    return { data: toWebhook(await load(request.params.id)) }
  })

  app.patch('/v1/webhooks/:id', {
    config: ADMIN,
    schema: { tags, security: SECURITY, operationId: 'updateWebhook', summary: 'Update a webhook', description: 'Changes the fields given only. A new `url` is checked as on create. With `is_active: false` it gets no deliveries for changes made while it is off, and its pending ones wait until it is on again.', params: WebhookParamsSchema, body: UpdateWebhookSchema, response: { 200: WebhookResponseSchema.describe('The webhook as it is now.'), ...problemResponses(400, 401, 403, 404, 415, 422) } }
  }, async (request, reply) => {
    const row = await load(request.params.id)
    if (request.body.url !== undefined) await checkTarget(request.body.url)
    const updated = await updateWebhook(app.db, row.id, pickDefined({
      url: request.body.url, description: request.body.description, is_active: request.body.is_active,
      event_types: request.body.event_types === undefined ? undefined : [...new Set(request.body.event_types)]
    }))
    if (updated === undefined) throw notFound(`Webhook "${request.params.id}"`)
    reply.header('cache-control', 'no-store')
    return { data: toWebhook(updated) }
  })

  app.delete('/v1/webhooks/:id', {
    config: ADMIN,
    schema: { tags, security: SECURITY, operationId: 'deleteWebhook', summary: 'Delete a webhook', description: 'Its pending deliveries go with it.', params: WebhookParamsSchema, response: { 204: z.undefined().describe('Deleted.'), ...problemResponses(401, 403, 404) } }
  }, async (request, reply) => {
    const row = await load(request.params.id)
    await deleteWebhook(app.db, row.id)
    return reply.code(204).send()
  })

  app.get('/v1/webhooks/:id/deliveries', {
    config: ADMIN,
    schema: { tags, security: SECURITY, operationId: 'listWebhookDeliveries', summary: 'List deliveries', description: 'Newest first: status, attempts, the last status code and error.', params: WebhookParamsSchema, querystring: ListQuerySchema, response: { 200: DeliveryPageSchema.describe('A page of deliveries.'), ...problemResponses(400, 401, 403, 404) } }
  }, async (request, reply) => {
    const row = await load(request.params.id)
    const page = await pageByKey(request, 'deliveries', request.query,
      (beforeId, limit) => listDeliveries(app.db, row.id, { limit, beforeId }), (d) => d.id)
    reply.header('cache-control', 'private, no-store')
    return { data: page.items.map(toDelivery), meta: page.meta, links: page.links }
  })

  app.post('/v1/webhooks/:id/deliveries/:delivery/retry', {
    config: ADMIN,
    schema: { tags, security: SECURITY, operationId: 'retryWebhookDelivery', summary: 'Send a delivery again', description: 'Puts the delivery back in the queue now, with a fresh budget of attempts.', params: DeliveryParamsSchema, response: { 202: DeliveryResponseSchema.describe('Queued.'), ...problemResponses(401, 403, 404) } }
  }, async (request, reply) => {
    const { id, delivery } = request.params
    const row = isUuid(id) && isUuid(delivery) ? await requeueDelivery(app.db, id.toLowerCase(), delivery.toLowerCase()) : undefined
    if (row === undefined) throw notFound(`Delivery "${delivery}" of webhook "${id}"`)
    reply.code(202).header('cache-control', 'no-store')
    return { data: toDelivery(row) }
  })
}

export const webhooksRoutes = routePlugin('webhooks-routes', webhooksPlugin, ['metrics'])
