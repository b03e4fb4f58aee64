import { z } from 'zod'
import { IdOrSlugSchema, TimestampSchema } from '../identifiers.ts'
import { pageOf, PageQuerySchema } from '../../http/pagination.ts'

export const AuthorLinkSchema = z.object({ label: z.string(), url: z.string() }).meta({ id: 'AuthorLink' })

export const AuthorSchema = z.object({
  id: z.uuid(),
  slug: z.string().describe('URL name, unique across authors.'),
  name: z.string(),
  bio: z.string(),
  avatar_url: z.string().nullable(),
  links: z.array(AuthorLinkSchema).describe('Profiles elsewhere: website, social accounts.'),
  latest_post_at: TimestampSchema.nullable().describe('When the newest public post by this author was published.'),
  created_at: TimestampSchema,
  updated_at: TimestampSchema
}).meta({
  id: 'Author',
  example: {
    id: '01465a6e-4000-7000-8000-000000000065',
    slug: 'joanna-paraszczuk',
    name: 'Joanna Paraszczuk',
    bio: 'Writes "Under The Black Flag", on the Islamic State group and militancy in Syria, Iraq and beyond.',
    avatar_url: null,
    links: [],
    latest_post_at: '2014-10-15T10:00:00.000Z',
    created_at: '2014-06-01T00:00:00.000Z',
    updated_at: '2014-06-01T00:00:00.000Z'
  }
})
export type Author = z.infer<typeof AuthorSchema>

export const AuthorResponseSchema = z.object({ data: AuthorSchema }).meta({ id: 'AuthorResponse' })
export const AuthorPageSchema = pageOf(AuthorSchema).meta({ id: 'AuthorPage' })
export const ListAuthorsQuerySchema = PageQuerySchema.strict()
export const AuthorParamsSchema = z.object({ author: IdOrSlugSchema })
