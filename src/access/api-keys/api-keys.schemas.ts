import { z } from 'zod'
import { TimestampSchema } from '../../content/common/fields.ts'
import { pageOf, PageQuerySchema } from '../../http/pagination.ts'
import { ScopeSchema } from '../scopes.ts'

const EXAMPLE_KEY = {
  id: '0192b3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b',
  name: 'Syndication partner: Example Wire',
  prefix: 'k7q2m9xa',
  scopes: ['content:read'],
  created_at: '2014-10-01T09:00:00.000Z',
  last_used_at: '2014-10-15T10:02:00.000Z',
  revoked_at: null
}

export const ApiKeySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string().describe('The public part of the key, shown to tell keys apart.'),
  scopes: z.array(ScopeSchema),
  created_at: TimestampSchema,
  last_used_at: TimestampSchema.nullable().describe('Kept to within a minute; written in batches.'),
  revoked_at: TimestampSchema.nullable()
}).meta({ id: 'ApiKey', examples: [EXAMPLE_KEY] })
export type ApiKey = z.infer<typeof ApiKeySchema>

export const CreatedApiKeySchema = z.object({
  data: ApiKeySchema.extend({ key: z.string().describe('The whole key. Shown this once: only a hash is kept.') })
}).meta({ id: 'CreatedApiKey', examples: [{ data: { ...EXAMPLE_KEY, last_used_at: null, key: 'k7q2m9xa_3vR8sT1uW4yZ6bC0dE2fG5hJ7kL9mN1pQ3' } }] })

export const CreateApiKeyBodySchema = z.object({
  name: z.string().trim().min(1).max(200),
  scopes: z.array(ScopeSchema).min(1).max(4),
  format: z.enum(['bearer', 'ghost']).optional()
    .describe('bearer (default): `Authorization: Bearer <key>`. ghost: a Ghost Content API key (26 hex characters, for `?key=` and the official Ghost client), scopes exactly content:read.')
}).strict().meta({ id: 'CreateApiKey', examples: [{ name: 'Syndication partner: Example Wire', scopes: ['content:read'] }] })

export const ApiKeyPageSchema = pageOf(ApiKeySchema).meta({ id: 'ApiKeyPage' })
export const ApiKeyResponseSchema = z.object({ data: ApiKeySchema }).meta({ id: 'ApiKeyResponse' })
export const ListApiKeysQuerySchema = PageQuerySchema.strict()
export const ApiKeyParamsSchema = z.object({ id: z.string().max(100).describe('The key id (UUID).') })
