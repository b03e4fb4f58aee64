import { z } from 'zod'
import { IdOrSlugSchema } from '../addressing/identifiers.ts'
import { SlugSchema } from '../addressing/slugs.ts'
import { TimestampSchema } from '../common/fields.ts'
import { pageOf } from '../../http/pagination.ts'
import { BylineGetQuerySchema, bylineListQuery, PostCountSchema } from '../resources/byline.schemas.ts'

export const TagSchema = z.object({
  id: z.uuid(),
  slug: z.string().describe('URL name, unique across tags.'),
  name: z.string(),
  description: z.string().describe('What the topic page says about the tag.'),
  count: PostCountSchema.optional(),
  latest_post_at: TimestampSchema.nullable().describe('When the newest public post with this tag was published.'),
  created_at: TimestampSchema,
  updated_at: TimestampSchema
}).meta({
  id: 'Tag',
  examples: [{
    id: '01465a6e-4000-7000-8000-0000000000c9',
    slug: 'islamic-state',
    name: 'Islamic State',
    description: 'The extremist group and the fight against it.',
    latest_post_at: '2014-10-15T10:00:00.000Z',
    created_at: '2014-06-01T00:00:00.000Z',
    updated_at: '2014-06-01T00:00:00.000Z'
  }]
})
export type Tag = z.infer<typeof TagSchema>

export const TagResponseSchema = z.object({ data: TagSchema }).meta({ id: 'TagResponse' })
export const TagPageSchema = pageOf(TagSchema).meta({ id: 'TagPage' })
export const ListTagsQuerySchema = bylineListQuery('tag', 'islamic-state')
export const TagParamsSchema = z.object({ tag: IdOrSlugSchema })

const tagWriteFields = {
  slug: SlugSchema.optional().describe('Derived from the name when not given.'),
  name: z.string().trim().min(1).max(100),
  description: z.string().max(5000).optional()
}
export const CreateTagSchema = z.object(tagWriteFields).strict().meta({ id: 'CreateTag', examples: [{ name: 'Islamic State', description: 'The extremist group and the fight against it.' }] })
export const UpdateTagSchema = z.object(tagWriteFields).partial().strict()
  .refine((body) => Object.keys(body).length > 0, 'give at least one field to change').meta({ id: 'UpdateTag', examples: [{ name: 'Islamic State (IS)' }] })
export const DeleteTagQuerySchema = z.object({}).strict()

/** Everything the tag routes validate and answer with (resources/resource.routes.ts). */
export const TAG_SCHEMAS = {
  item: TagSchema,
  page: TagPageSchema,
  response: TagResponseSchema,
  params: TagParamsSchema,
  getQuery: BylineGetQuerySchema,
  listQuery: ListTagsQuerySchema,
  create: CreateTagSchema,
  update: UpdateTagSchema,
  deleteQuery: DeleteTagQuerySchema
}
