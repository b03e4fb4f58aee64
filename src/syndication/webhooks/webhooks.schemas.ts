import { z } from 'zod'
import { EVENT_PATTERN } from '../../changes/vocabulary.ts'
import { HttpUrlSchema, TimestampSchema } from '../../content/common/fields.ts'
import { pageOf, PageQuerySchema } from '../../http/pagination.ts'

const EventTypeSchema = z.string().regex(EVENT_PATTERN, 'must be an event such as post.published, a family such as post.*, or *')
  .describe('post.published, post.updated, post.unpublished, post.deleted, blog.*, author.*, tag.* (created, updated, deleted), or *.')

export const WebhookSchema = z.object({
  id: z.uuid(),
  url: z.string(),
  description: z.string(),
  event_types: z.array(z.string()),
  is_active: z.boolean(),
  created_at: TimestampSchema,
  updated_at: TimestampSchema
}).meta({ id: 'Webhook' })

export const CreatedWebhookSchema = z.object({
  data: WebhookSchema.extend({
    secret: z.string().describe('Signing secret (whsec_...), shown this once. Verify deliveries with any Standard Webhooks library.')
  })
}).meta({ id: 'CreatedWebhook' })

const webhookFields = {
  url: HttpUrlSchema,
  description: z.string().max(500).optional(),
  event_types: z.array(EventTypeSchema).min(1).max(30),
  is_active: z.boolean().optional()
}
export const CreateWebhookSchema = z.object(webhookFields).strict().meta({ id: 'CreateWebhook' })
export const UpdateWebhookSchema = z.object(webhookFields).partial().strict()
  .refine((body) => Object.keys(body).length > 0, 'give at least one field to change').meta({ id: 'UpdateWebhook' })

export const DeliverySchema = z.object({
  id: z.uuid().describe('Also the webhook-id header of every attempt.'),
  event: z.string(),
  change_seq: z.number().int(),
  status: z.enum(['pending', 'succeeded', 'failed']),
  attempts: z.number().int(),
  next_attempt_at: TimestampSchema.nullable(),
  last_status_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  created_at: TimestampSchema,
  delivered_at: TimestampSchema.nullable()
}).meta({ id: 'WebhookDelivery' })

export const WebhookResponseSchema = z.object({ data: WebhookSchema }).meta({ id: 'WebhookResponse' })
export const WebhookPageSchema = pageOf(WebhookSchema).meta({ id: 'WebhookPage' })
export const DeliveryPageSchema = pageOf(DeliverySchema).meta({ id: 'WebhookDeliveryPage' })
export const DeliveryResponseSchema = z.object({ data: DeliverySchema }).meta({ id: 'WebhookDeliveryResponse' })
export const WebhookParamsSchema = z.object({ id: z.string().max(100) })
export const DeliveryParamsSchema = z.object({ id: z.string().max(100), delivery: z.string().max(100) })
export const ListQuerySchema = PageQuerySchema.strict()
