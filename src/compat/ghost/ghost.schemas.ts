import { z } from 'zod'

// Ghost's Content API (v5 and v6) as its clients read it: the resources' field names, the
// `{ posts: [...], meta: { pagination } }` envelopes, and `{ errors: [...] }`. Fields this data
// model has no value for are there, null, as on a Ghost site that leaves them empty, so
// frontends that read them do not break. `fields=` may leave any field out, so all are optional.

const nullableString = z.string().nullable()

// Ghost's search and social fields, on posts, tags and settings alike.
const seoFields = {
  og_image: nullableString,
  og_title: nullableString,
  og_description: nullableString,
  twitter_image: nullableString,
  twitter_title: nullableString,
  twitter_description: nullableString,
  meta_title: nullableString,
  meta_description: nullableString
}

const NO_SEO = { og_image: null, og_title: null, og_description: null, twitter_image: null, twitter_title: null, twitter_description: null, meta_title: null, meta_description: null }
const EXAMPLE_TAG = {
  id: '01465a6e-4000-7000-8000-0000000000c9', name: 'Islamic State', slug: 'islamic-state', description: 'The extremist group and the fight against it.',
  feature_image: null, visibility: 'public', ...NO_SEO, codeinjection_head: null, codeinjection_foot: null, canonical_url: null, accent_color: null,
  url: 'https://news.example.com/tag/islamic-state/', count: { posts: 12 }
}
const EXAMPLE_AUTHOR = {
  id: '01465a6e-4000-7000-8000-000000000065', name: 'Joanna Paraszczuk', slug: 'joanna-paraszczuk', profile_image: null, cover_image: null,
  bio: 'Writes "Under The Black Flag".', website: null, location: null, facebook: null, twitter: '@joannaparaszczuk', meta_title: null, meta_description: null,
  url: 'https://news.example.com/author/joanna-paraszczuk/', count: { posts: 21 }
}

const tagFields = {
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  description: nullableString,
  feature_image: nullableString,
  visibility: z.literal('public'),
  ...seoFields,
  codeinjection_head: nullableString,
  codeinjection_foot: nullableString,
  canonical_url: nullableString,
  accent_color: nullableString,
  url: z.string(),
  count: z.object({ posts: z.number().int().min(0) }).optional()
}
export const GhostTagSchema = z.object(tagFields).partial().meta({ id: 'GhostTag', examples: [EXAMPLE_TAG] })

const authorFields = {
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  profile_image: nullableString,
  cover_image: nullableString,
  bio: nullableString,
  website: nullableString,
  location: nullableString,
  facebook: nullableString,
  twitter: nullableString,
  meta_title: nullableString,
  meta_description: nullableString,
  url: z.string(),
  count: z.object({ posts: z.number().int().min(0) }).optional()
}
export const GhostAuthorSchema = z.object(authorFields).partial().meta({ id: 'GhostAuthor', examples: [EXAMPLE_AUTHOR] })

export const GhostPostSchema = z.object({
  id: z.string(),
  uuid: z.string(),
  title: z.string(),
  slug: z.string(),
  html: z.string().optional(),
  plaintext: z.string().optional(),
  comment_id: z.string(),
  feature_image: nullableString,
  feature_image_alt: nullableString,
  feature_image_caption: nullableString,
  featured: z.boolean(),
  visibility: z.literal('public'),
  created_at: z.string(),
  updated_at: z.string(),
  published_at: z.string(),
  custom_excerpt: nullableString,
  codeinjection_head: nullableString,
  codeinjection_foot: nullableString,
  custom_template: nullableString,
  canonical_url: nullableString,
  url: z.string(),
  excerpt: z.string(),
  reading_time: z.number().int().min(0),
  access: z.boolean(),
  comments: z.boolean(),
  ...seoFields,
  email_subject: nullableString,
  frontmatter: nullableString,
  tags: z.array(GhostTagSchema).optional(),
  authors: z.array(GhostAuthorSchema).optional(),
  primary_tag: GhostTagSchema.nullable().optional(),
  primary_author: GhostAuthorSchema.nullable().optional()
}).partial().meta({
  id: 'GhostPost',
  examples: [{
    id: '0149127d-1240-7000-8000-0000000003e8',
    uuid: '0149127d-1240-7000-8000-0000000003e8',
    title: "Is Moscow Walking Back 'IS Intel-Sharing' Reports?",
    slug: 'is-moscow-walking-back-is-intel-sharing-reports',
    html: '<p>The Russian Foreign Ministry has put out a statement ...</p>',
    comment_id: '0149127d-1240-7000-8000-0000000003e8',
    feature_image: 'https://static.example.com/under-the-black-flag/2014/10/kerry-lavrov-paris.jpg',
    feature_image_alt: 'John Kerry and Sergei Lavrov talking at a meeting in Paris',
    feature_image_caption: 'U.S. Secretary of State John Kerry (right) speaks with Russian Foreign Minister Sergei Lavrov during a meeting in Paris on October 14.',
    featured: true,
    visibility: 'public',
    created_at: '2014-10-15T09:40:00.000Z',
    updated_at: '2014-10-15T10:00:00.000Z',
    published_at: '2014-10-15T10:00:00.000Z',
    custom_excerpt: 'The Russian Foreign Ministry says Moscow will not be part of the U.S.-led coalition against the Islamic State group.',
    codeinjection_head: null,
    codeinjection_foot: null,
    custom_template: null,
    canonical_url: null,
    url: 'https://news.example.com/under-the-black-flag/2014/10/is-moscow-walking-back-is-intel-sharing-reports',
    excerpt: 'The Russian Foreign Ministry says Moscow will not be part of the U.S.-led coalition against the Islamic State group.',
    reading_time: 2,
    access: true,
    comments: false,
    ...NO_SEO,
    email_subject: null,
    frontmatter: null,
    tags: [EXAMPLE_TAG],
    authors: [EXAMPLE_AUTHOR],
    primary_tag: EXAMPLE_TAG,
    primary_author: EXAMPLE_AUTHOR
  }]
})
export type GhostPost = z.infer<typeof GhostPostSchema>

export const GhostSettingsSchema = z.object({
  title: z.string(),
  description: z.string(),
  logo: nullableString,
  icon: nullableString,
  accent_color: nullableString,
  cover_image: nullableString,
  facebook: nullableString,
  twitter: nullableString,
  lang: z.string(),
  locale: z.string(),
  timezone: z.string(),
  codeinjection_head: nullableString,
  codeinjection_foot: nullableString,
  navigation: z.array(z.object({ label: z.string(), url: z.string() })),
  secondary_navigation: z.array(z.object({ label: z.string(), url: z.string() })),
  ...seoFields,
  url: z.string()
}).meta({
  id: 'GhostSettings',
  examples: [{
    title: 'Under The Black Flag',
    description: '"Under The Black Flag" provides news, opinion, and analysis about the impact of the Islamic State (IS) extremist group in Syria, Iraq, and beyond.',
    logo: null, icon: null, accent_color: null, cover_image: null, facebook: null, twitter: null, lang: 'en', locale: 'en', timezone: 'Etc/UTC',
    codeinjection_head: null, codeinjection_foot: null, navigation: [], secondary_navigation: [], ...NO_SEO,
    url: 'https://news.example.com/under-the-black-flag'
  }]
})

export const GhostPaginationSchema = z.object({
  page: z.number().int().min(1),
  limit: z.number().int().min(1),
  pages: z.number().int().min(1),
  total: z.number().int().min(0),
  next: z.number().int().nullable(),
  prev: z.number().int().nullable()
}).meta({ id: 'GhostPagination', examples: [{ page: 2, limit: 15, pages: 3, total: 31, next: 3, prev: 1 }] })

const meta = z.object({ pagination: GhostPaginationSchema })
export const GhostPostsSchema = z.object({ posts: z.array(GhostPostSchema), meta: meta.optional() }).meta({ id: 'GhostPosts' })
export const GhostPagesSchema = z.object({ pages: z.array(GhostPostSchema), meta: meta.optional() }).meta({ id: 'GhostPages' })
export const GhostAuthorsSchema = z.object({ authors: z.array(GhostAuthorSchema), meta: meta.optional() }).meta({ id: 'GhostAuthors' })
export const GhostTagsSchema = z.object({ tags: z.array(GhostTagSchema), meta: meta.optional() }).meta({ id: 'GhostTags' })
export const GhostSettingsResponseSchema = z.object({ settings: GhostSettingsSchema, meta: z.object({}) }).meta({ id: 'GhostSettingsResponse' })

export const GhostErrorSchema = z.object({
  errors: z.array(z.object({
    message: z.string(),
    context: z.string().nullable(),
    type: z.string().describe('NotFoundError, BadRequestError, UnauthorizedError, NoPermissionError, ValidationError, TooManyRequestsError...'),
    details: z.unknown().describe('Anything, null included: Ghost puts validation details here.'),
    property: z.string().nullable(),
    help: z.string().nullable(),
    code: z.string().nullable(),
    id: z.string(),
    ghostErrorCode: z.string().nullable()
  }))
}).meta({
  id: 'GhostError',
  description: 'Ghost\'s error format.',
  examples: [{ errors: [{ message: 'Unknown Content API Key', context: null, type: 'UnauthorizedError', details: null, property: null, help: null, code: 'unknown_key', id: '6f1c2a7e-8f0b-4c1d-9e2a-3b4c5d6e7f80', ghostErrorCode: null }] }]
})

// Query parameters, as the official client sends them: lists joined with commas.
const csv = z.string().max(2000)
export const GHOST_LIMIT_DEFAULT = 15
/** `limit=all` and any larger limit stop here, as on Ghost 6 (whatever Accept-Version says). */
export const GHOST_LIMIT_CAP = 100

export const GhostBrowseQuerySchema = z.object({
  key: z.string().max(100).describe('A Ghost Content API key (26 hex characters): `npx content-api keys create --name NAME --scopes content:read --format ghost`.'),
  filter: z.string().max(4000).optional().describe('NQL: `tag:news+featured:true`, `author:[ann,bob]`, `published_at:>\'2024-01-01\'`, `slug:-old`, parentheses (up to 32 deep); at most 10 tag and author conditions, a list counting once.'),
  include: csv.optional().describe('authors, tags (posts); count.posts (authors, tags).'),
  fields: csv.optional().describe('Only these fields of each resource.'),
  formats: csv.optional().describe('html (default), plaintext.'),
  limit: z.string().regex(/^(all|\d{1,6})$/, 'must be a number or all').optional().describe(`Per page, default ${GHOST_LIMIT_DEFAULT}; all, and any larger number, stop at ${GHOST_LIMIT_CAP} (Ghost 6's cap, for v5 clients too).`),
  page: z.string().regex(/^\d{1,6}$/, 'must be a page number').optional().describe('1-based page number.'),
  order: z.string().max(200).optional().describe('e.g. `published_at desc` (default), `title asc`; comma-separated.')
}).strict()
export type GhostBrowseQuery = z.infer<typeof GhostBrowseQuerySchema>

// The official client sends the slug it reads by as a query parameter too (read({ slug })).
export const GhostReadQuerySchema = GhostBrowseQuerySchema.pick({ key: true, include: true, fields: true, formats: true })
  .extend({ slug: z.string().max(200).optional().describe('Ignored: the official client repeats the slug of the path here.') }).strict()
export type GhostReadQuery = z.infer<typeof GhostReadQuerySchema>
