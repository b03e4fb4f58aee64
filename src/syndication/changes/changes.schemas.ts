import { z } from 'zod'
import { ChangeOpSchema, ENTITY_TYPES, EntityTypeSchema } from '../../changes/vocabulary.ts'
import { IdOrSlugSchema } from '../../content/addressing/identifiers.ts'
import { AuthorSchema } from '../../content/authors/authors.schemas.ts'
import { BlogSchema } from '../../content/blogs/blogs.schemas.ts'
import { TimestampSchema } from '../../content/common/fields.ts'
import { listParam } from '../../content/common/query-params.ts'
import { PreviewPostSchema } from '../../content/posts/posts.schemas.ts'
import { TagSchema } from '../../content/tags/tags.schemas.ts'
import { integerParam } from '../../http/pagination.ts'

export const MAX_WAIT_SECONDS = 30

export const ChangesQuerySchema = z.object({
  since: z.string().min(1).max(200).optional().describe('`meta.next_cursor` of the previous call; without it, from the beginning.'),
  limit: integerParam(1, 1000).default(100).describe('Changes per call, 1 to 1000.'),
  types: listParam(EntityTypeSchema, 10, 'kind', 'post').optional().describe(`Only these kinds: ${ENTITY_TYPES.join(', ')} (comma-separated).`),
  blog: IdOrSlugSchema.optional().describe('Only changes of this blog and its posts.'),
  wait: integerParam(0, MAX_WAIT_SECONDS).default(0)
    .describe(`Seconds to wait for a change when there is none yet (long poll), up to ${MAX_WAIT_SECONDS}.`),
  visibility: z.enum(['public', 'all']).default('public')
    .describe('public: what public readers saw change; all (needs content:preview): every change, drafts included.')
}).strict()
export type ChangesQuery = z.infer<typeof ChangesQuerySchema>

const changeFields = {
  seq: z.number().int().min(1).describe('Position in the log; increasing.'),
  id: z.uuid(),
  op: ChangeOpSchema.describe('upsert: store `data`; delete: forget the resource.'),
  event: z.string().nullable().describe('What it meant, e.g. post.published, post.unpublished; null when the public saw nothing, and on the delete that takes a post moved to another blog out of its old one (the change after it announces the move).'),
  occurred_at: TimestampSchema
}

// One object per kind, told apart by `type`: a typed client narrows `data` with `if (change.type === 'post')`.
const changeOf = <const T extends string, D extends z.ZodType>(type: T, data: D) => z.object({
  ...changeFields,
  type: z.literal(type),
  data: data.optional().describe('The resource as the API shows it now; absent for deletes.')
})

export const ChangeSchema = z.discriminatedUnion('type', [
  changeOf('post', PreviewPostSchema),
  changeOf('blog', BlogSchema),
  changeOf('author', AuthorSchema),
  changeOf('tag', TagSchema)
]).meta({
  id: 'Change',
  examples: [{
    seq: 42,
    type: 'tag',
    id: '01465a6e-4000-7000-8000-0000000000c9',
    op: 'upsert',
    event: 'tag.updated',
    occurred_at: '2014-10-15T10:05:00.000Z',
    // The tag as its own schema's example shows it.
    data: (TagSchema.meta()?.examples as unknown[] | undefined)?.[0]
  }]
})
export type Change = z.infer<typeof ChangeSchema>

export const ChangePageSchema = z.object({
  data: z.array(ChangeSchema),
  meta: z.object({ next_cursor: z.string().describe('Pass as `since` next time; always present, also when nothing changed.') })
}).meta({ id: 'ChangePage' })
