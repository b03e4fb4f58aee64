import { z } from 'zod'
import { EVENT_PATTERN } from '../../changes/vocabulary.ts'
import { HttpUrlSchema, TimestampSchema } from '../../content/common/fields.ts'
import { pageOf, PageQuerySchema } from '../../http/pagination.ts'

const EventTypeSchema = z.string().regex(EVENT_PATTERN, 'must be an event such as post.published, a family such as post.*, or *')
  .describe('post.published, post.updated, post.unpublished, post.deleted, blog.*, author.*, tag.* (created, updated, deleted), or *.')

const EXAMPLE_WEBHOOK = {
  id: '0192b3c4-5d6e-7f80-9a1b-2c3d4e5f6a7c',
  url: 'https://partner.example.com/hooks/content',
  description: 'Example Wire: new and changed posts',
  event_types: ['post.published', 'post.updated', 'post.unpublished'],
  is_active: true,
  created_at: '2014-10-01T09:00:00.000Z',
  updated_at: '2014-10-01T09:00:00.000Z'
}

export const WebhookSchema = z.object({
  id: z.uuid(),
  url: z.string(),
  description: z.string(),
  event_types: z.array(z.string()),
  is_active: z.boolean(),
  created_at: TimestampSchema,
  updated_at: TimestampSchema
}).meta({ id: 'Webhook', examples: [EXAMPLE_WEBHOOK] })

export const CreatedWebhookSchema = z.object({
  data: WebhookSchema.extend({
    secret: z.string().describe('Signing secret (whsec_...), shown this once. Verify deliveries with any Standard Webhooks library.')
  })
}).meta({ id: 'CreatedWebhook', examples: [{ data: { ...EXAMPLE_WEBHOOK, secret: 'whsec_MfKQ9r8GKYqXWc6TiT2fRD6v3wz1XJ0qQG0eF2p7xk8=' } }] })

const webhookFields = {
  url: HttpUrlSchema,
  description: z.string().max(500).optional(),
  event_types: z.array(EventTypeSchema).min(1).max(30),
  is_active: z.boolean().optional()
}
export const CreateWebhookSchema = z.object(webhookFields).strict()
  .meta({ id: 'CreateWebhook', examples: [{ url: EXAMPLE_WEBHOOK.url, description: EXAMPLE_WEBHOOK.description, event_types: ['post.*'] }] })
export const UpdateWebhookSchema = z.object(webhookFields).partial().strict()
  .refine((body) => Object.keys(body).length > 0, 'give at least one field to change').meta({ id: 'UpdateWebhook', examples: [{ is_active: false }] })

export const DeliverySchema = z.object({
  id: z.uuid().describe('Also the webhook-id header of every attempt.'),
  event: z.string(),
  change_seq: z.number().int().min(1).describe('The change-log position it was made from (`seq` in /v1/changes); compaction may have removed that change since (CHANGE_LOG_COMPACT_AFTER_DAYS).'),
  status: z.enum(['pending', 'succeeded', 'failed']),
  attempts: z.number().int().min(0),
  next_attempt_at: TimestampSchema.nullable(),
  last_status_code: z.number().int().min(100).max(599).nullable(),
  last_error: z.string().nullable(),
  created_at: TimestampSchema,
  delivered_at: TimestampSchema.nullable()
}).meta({
  id: 'WebhookDelivery',
  examples: [{
    id: '0192b3c4-6000-7000-8000-000000000042',
    event: 'post.published',
    change_seq: 42,
    status: 'succeeded',
    attempts: 1,
    next_attempt_at: null,
    last_status_code: 204,
    last_error: null,
    created_at: '2014-10-15T10:00:01.000Z',
    delivered_at: '2014-10-15T10:00:01.200Z'
  }]
})

export const WebhookResponseSchema = z.object({ data: WebhookSchema }).meta({ id: 'WebhookResponse' })
export const WebhookPageSchema = pageOf(WebhookSchema).meta({ id: 'WebhookPage' })
export const DeliveryPageSchema = pageOf(DeliverySchema).meta({ id: 'WebhookDeliveryPage' })
export const DeliveryResponseSchema = z.object({ data: DeliverySchema }).meta({ id: 'WebhookDeliveryResponse' })
export const WebhookParamsSchema = z.object({ id: z.string().max(100) })
export const DeliveryParamsSchema = z.object({ id: z.string().max(100), delivery: z.string().max(100) })
export const ListQuerySchema = PageQuerySchema.strict()
