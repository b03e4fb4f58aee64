import { z } from 'zod'
import { IdOrSlugSchema } from '../addressing/identifiers.ts'
import { SlugSchema } from '../addressing/slugs.ts'
import { HttpUrlSchema, TimestampSchema } from '../common/fields.ts'
import { booleanParam } from '../common/query-params.ts'
import { pageOf } from '../../http/pagination.ts'
import { BylineGetQuerySchema, bylineListQuery, PostCountSchema } from '../resources/byline.schemas.ts'

export const AuthorLinkSchema = z.object({ label: z.string(), url: z.string() })
  .meta({ id: 'AuthorLink', examples: [{ label: 'X', url: 'https://x.com/joannaparaszczuk' }] })

export const AuthorSchema = z.object({
  id: z.uuid(),
  slug: z.string().describe('URL name, unique across authors.'),
  name: z.string(),
  bio: z.string(),
  avatar_url: z.string().nullable(),
  links: z.array(AuthorLinkSchema).describe('Profiles elsewhere: website, social accounts.'),
  count: PostCountSchema.optional(),
  latest_post_at: TimestampSchema.nullable().describe('When the newest public post by this author was published.'),
  created_at: TimestampSchema,
  updated_at: TimestampSchema
}).meta({
  id: 'Author',
  examples: [{
    id: '01465a6e-4000-7000-8000-000000000065',
    slug: 'joanna-paraszczuk',
    name: 'Joanna Paraszczuk',
    bio: 'Writes "Under The Black Flag", on the Islamic State group and militancy in Syria, Iraq and beyond.',
    avatar_url: null,
    links: [],
    latest_post_at: '2014-10-15T10:00:00.000Z',
    created_at: '2014-06-01T00:00:00.000Z',
    updated_at: '2014-06-01T00:00:00.000Z'
  }]
})
export type Author = z.infer<typeof AuthorSchema>

export const AuthorResponseSchema = z.object({ data: AuthorSchema }).meta({ id: 'AuthorResponse' })
export const AuthorPageSchema = pageOf(AuthorSchema).meta({ id: 'AuthorPage' })
export const ListAuthorsQuerySchema = bylineListQuery('author', 'joanna-paraszczuk')
export const AuthorParamsSchema = z.object({ author: IdOrSlugSchema })

const authorWriteFields = {
  slug: SlugSchema.optional().describe('Derived from the name when not given.'),
  name: z.string().trim().min(1).max(200),
  bio: z.string().max(5000).optional(),
  avatar_url: HttpUrlSchema.nullable().optional(),
  links: z.array(z.object({ label: z.string().trim().min(1).max(100), url: HttpUrlSchema }).strict()).max(20).optional()
}
export const CreateAuthorSchema = z.object(authorWriteFields).strict().meta({
  id: 'CreateAuthor',
  examples: [{ name: 'Joanna Paraszczuk', bio: 'Writes "Under The Black Flag".', links: [{ label: 'X', url: 'https://x.com/joannaparaszczuk' }] }]
})
export const UpdateAuthorSchema = z.object(authorWriteFields).partial().strict()
  .refine((body) => Object.keys(body).length > 0, 'give at least one field to change').meta({ id: 'UpdateAuthor', examples: [{ avatar_url: 'https://static.example.com/authors/joanna-paraszczuk.jpg' }] })
export const DeleteAuthorQuerySchema = z.object({
  reassign_posts_to: IdOrSlugSchema.optional().describe('Credit this author instead on every post of the one deleted.'),
  remove_from_posts: booleanParam.optional().describe('true: take the author off their posts (the posts stay).')
}).strict()

/** Everything the author routes validate and answer with (resources/resource.routes.ts). */
export const AUTHOR_SCHEMAS = {
  item: AuthorSchema,
  page: AuthorPageSchema,
  response: AuthorResponseSchema,
  params: AuthorParamsSchema,
  getQuery: BylineGetQuerySchema,
  listQuery: ListAuthorsQuerySchema,
  create: CreateAuthorSchema,
  update: UpdateAuthorSchema,
  deleteQuery: DeleteAuthorQuerySchema
}
