import { z } from 'zod'
import { TimestampSchema } from '../../content/common/fields.ts'
import { pageOf, PageQuerySchema } from '../../http/pagination.ts'
import { ScopeSchema } from '../scopes.ts'

export const ApiKeySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string().describe('The public part of the key, shown to tell keys apart.'),
  scopes: z.array(ScopeSchema),
  created_at: TimestampSchema,
  last_used_at: TimestampSchema.nullable().describe('Kept to within a minute; written in batches.'),
  revoked_at: TimestampSchema.nullable()
}).meta({ id: 'ApiKey' })
export type ApiKey = z.infer<typeof ApiKeySchema>

export const CreatedApiKeySchema = z.object({
  data: ApiKeySchema.extend({ key: z.string().describe('The whole key. Shown this once: only a hash is kept.') })
}).meta({ id: 'CreatedApiKey' })

export const CreateApiKeyBodySchema = z.object({
  name: z.string().trim().min(1).max(200),
  scopes: z.array(ScopeSchema).min(1).max(4)
}).strict().meta({ id: 'CreateApiKey' })

export const ApiKeyPageSchema = pageOf(ApiKeySchema).meta({ id: 'ApiKeyPage' })
export const ApiKeyResponseSchema = z.object({ data: ApiKeySchema }).meta({ id: 'ApiKeyResponse' })
export const ListApiKeysQuerySchema = PageQuerySchema.strict()
export const ApiKeyParamsSchema = z.object({ id: z.string().max(100).describe('The key id (UUID).') })
