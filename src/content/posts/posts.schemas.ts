import { z } from 'zod'
import { IdOrSlugSchema } from '../addressing/identifiers.ts'
import { SlugSchema } from '../addressing/slugs.ts'
import { HttpUrlSchema, LanguageTagSchema, TimestampSchema, withThousandsSeparators } from '../common/fields.ts'
import { booleanParam, listParam as list } from '../common/query-params.ts'
import { FLAGSHIP_LEAD_IMAGE } from '../../demo/flagship-post.ts'
import { PostStatusSchema } from './post-status.ts'
import { SeoInputSchema, SeoSchema } from './post-seo.ts'
import { WORDS_PER_MINUTE } from './post-text.ts'
import { CursorSchema, LimitSchema, PageLinksSchema, PageMetaSchema } from '../../http/pagination.ts'
import { AuthorSchema } from '../authors/authors.schemas.ts'
import { TagSchema } from '../tags/tags.schemas.ts'
import { BlogSchema } from '../blogs/blogs.schemas.ts'

export const SummarySchema = z.object({
  id: z.uuid(),
  slug: z.string(),
  name: z.string()
}).meta({ id: 'Summary', examples: [{ id: '01465a6e-4000-7000-8000-000000000065', slug: 'joanna-paraszczuk', name: 'Joanna Paraszczuk' }], description: 'A related author or tag, in brief; ask `include=` for the whole resource.' })

export const BlogSummarySchema = z.object({
  id: z.uuid(),
  slug: z.string(),
  title: z.string()
}).meta({ id: 'BlogSummary', examples: [{ id: '01465a6e-4000-7000-8000-000000000001', slug: 'under-the-black-flag', title: 'Under The Black Flag' }] })

export const LeadImageSchema = z.object({
  url: z.string(),
  alt: z.string().nullable().describe('Text for readers who cannot see the image.'),
  caption: z.string().nullable().describe('The caption shown under the image.'),
  credit: z.string().nullable(),
  width: z.number().int().min(1).nullable(),
  height: z.number().int().min(1).nullable()
}).meta({ id: 'LeadImage', examples: [FLAGSHIP_LEAD_IMAGE] })

const postFields = {
  id: z.uuid(),
  blog: BlogSummarySchema,
  slug: z.string().describe('URL name, unique within the blog.'),
  url: z.string().describe('The post\'s page on the website: from the blog\'s post_url_template or website_url, else the network\'s POST_URL_TEMPLATE or WEBSITE_URL; the API URL when none is set.'),
  api_url: z.string().describe('The post\'s address in this API (JSON).'),
  title: z.string(),
  subtitle: z.string().nullable(),
  excerpt: z.string().nullable(),
  body_html: z.string().describe('Sanitized HTML of the article, its links and images as the editor wrote them (relative ones resolve against `url`; feeds resolve them). On single posts; on lists with `formats=html` or `fields=body_html`.'),
  body_text: z.string().optional().describe('The article as plain text (for native apps, search, text-to-speech). With `formats=plaintext` or `fields=body_text`.'),
  word_count: z.number().int().min(0).describe('Words in the article: counted by spaces, and in scripts written without them (Chinese, Japanese, Thai, Lao, Khmer, Burmese) by Unicode word breaks. Counted when the body is written.'),
  reading_time_minutes: z.number().int().min(0).describe(`word_count at ${WORDS_PER_MINUTE} words a minute, rounded, and at least 1 for an article with words.`),
  lead_image: LeadImageSchema.nullable(),
  language: z.string().describe('BCP 47 language tag.'),
  is_breaking: z.boolean(),
  is_featured: z.boolean(),
  authors: z.array(SummarySchema).describe('In byline order.'),
  tags: z.array(SummarySchema),
  status: PostStatusSchema
    .describe('Always published for public readers; a preview key also sees drafts and scheduled posts.'),
  published_at: TimestampSchema.describe('When the post was (or, scheduled, will be) published.'),
  updated_at: TimestampSchema,
  seo: SeoSchema.describe('For <head>: search and social fields, each as the editor set it or defaulted from the article.')
}

export type PostField = keyof typeof postFields
export const POST_FIELDS = Object.keys(postFields) as PostField[]
const BODIES: readonly PostField[] = ['body_html', 'body_text']
/** What list items carry unless `fields=` or `formats=` say otherwise: everything but the bodies. */
export const DEFAULT_LIST_FIELDS = POST_FIELDS.filter((field) => !BODIES.includes(field))
/** What a single post carries unless `fields=` says otherwise: everything but the plain-text body. */
export const DEFAULT_POST_FIELDS = POST_FIELDS.filter((field) => field !== 'body_text')
export const FORMATS = { html: 'body_html', plaintext: 'body_text' } as const satisfies Record<string, PostField>

const EXAMPLE_POST = {
  id: '0149127d-1240-7000-8000-0000000003e8',
  blog: { id: '01465a6e-4000-7000-8000-000000000001', slug: 'under-the-black-flag', title: 'Under The Black Flag' },
  slug: 'is-moscow-walking-back-is-intel-sharing-reports',
  url: 'https://news.example.com/under-the-black-flag/2014/10/is-moscow-walking-back-is-intel-sharing-reports',
  api_url: 'https://api.example.com/v1/blogs/under-the-black-flag/posts/is-moscow-walking-back-is-intel-sharing-reports',
  title: "Is Moscow Walking Back 'IS Intel-Sharing' Reports?",
  subtitle: null,
  excerpt: 'The Russian Foreign Ministry says Moscow will not be part of the U.S.-led coalition against the Islamic State group.',
  body_html: '<p>The Russian Foreign Ministry has put out a statement ...</p>',
  word_count: 565,
  reading_time_minutes: 2,
  // The documentation's example is the demo's flagship post.
  lead_image: FLAGSHIP_LEAD_IMAGE,
  language: 'en',
  is_breaking: true,
  is_featured: true,
  status: 'published',
  authors: [{ id: '01465a6e-4000-7000-8000-000000000065', slug: 'joanna-paraszczuk', name: 'Joanna Paraszczuk' }],
  tags: [{ id: '01465a6e-4000-7000-8000-0000000000c9', slug: 'islamic-state', name: 'Islamic State' }],
  published_at: '2014-10-15T10:00:00.000Z',
  updated_at: '2014-10-15T10:00:00.000Z',
  seo: (SeoSchema.meta()?.examples as unknown[])[0]
}

export const PostSchema = z.object(postFields).meta({ id: 'Post', examples: [EXAMPLE_POST] })
export type Post = z.infer<typeof PostSchema>

// The shapes a typed client gets: without `fields=`, every item is complete (only the bodies
// are optional in lists), so a frontend never writes `post.blog?.slug`. Two variants are
// documented as their own components and named in each operation's `x-response-variants`
// (in strict mode a response is checked against its variant: http/serialization.ts jsonPieces):
// - `fields=` (sparse fieldsets): SparsePost, any field but the id may be absent;
// - a key with content:preview: PreviewPost, whose published_at is null for unpublished drafts.
export const PostListItemSchema = PostSchema.partial({ body_html: true }).meta({
  id: 'PostListItem',
  description: 'A post in a list: every field but the bodies (ask for them with `formats=`).',
  examples: [{ ...EXAMPLE_POST, body_html: undefined }]
})
export type PostListItem = z.infer<typeof PostListItemSchema>

const nullablePublishedAt = TimestampSchema.nullable().describe('Null for drafts that were never published.')

export const PreviewPostSchema = PostSchema.partial({ body_html: true }).extend({ published_at: nullablePublishedAt }).meta({
  id: 'PreviewPost',
  description: 'A post as a key with content:preview sees it (lists, single posts, writes, the change log with visibility=all): drafts have no publish time yet.',
  examples: [{ ...EXAMPLE_POST, status: 'draft', published_at: null }]
})
export type PreviewPost = z.infer<typeof PreviewPostSchema>

export const SparsePostSchema = PreviewPostSchema.partial().required({ id: true }).meta({
  id: 'SparsePost',
  description: 'A post with the fields `fields=` named (and the id).',
  examples: [{ id: EXAMPLE_POST.id, title: EXAMPLE_POST.title, url: EXAMPLE_POST.url, published_at: EXAMPLE_POST.published_at }]
})
export type SparsePost = z.infer<typeof SparsePostSchema>

export const IncludedSchema = z.object({
  blogs: z.array(BlogSchema).optional(),
  authors: z.array(AuthorSchema).optional(),
  tags: z.array(TagSchema).optional()
}).meta({ id: 'Included', description: 'Related resources asked for with `include=`, each once.' })

export const EXACT_COUNT_LIMIT = 10_000
// With `q`, counting a match means reading its row and testing its search vector (the index
// alone over-matches: stems, other languages), some 30-70 µs each: at 10,000 that was 0.3-2 s
// of database time for one request, for any words an anonymous caller cares to send (1,000,000
// posts). At 1,000, a tenth of it; what search pages show ("1,000+ results").
export const EXACT_SEARCH_COUNT_LIMIT = 1_000

/** Up to how many matches a count is exact: fewer when a full-text query decides what matches. */
export const exactCountLimit = (query: { q?: string | undefined }): number =>
  query.q === undefined ? EXACT_COUNT_LIMIT : EXACT_SEARCH_COUNT_LIMIT

const PostPageMetaSchema = PageMetaSchema.extend({
  total: z.number().int().min(0).optional()
    .describe(`With \`count=estimate\`: how many posts match. Exact up to ${withThousandsSeparators(EXACT_COUNT_LIMIT)} (${withThousandsSeparators(EXACT_SEARCH_COUNT_LIMIT)} with \`q\`); beyond, the query planner's estimate, never less than that limit plus one (see total_exact).`),
  total_exact: z.boolean().optional().describe('With `count=estimate`: true when `total` was counted, false when estimated.'),
  estimated_total: z.number().int().min(0).optional().meta({ deprecated: true }).describe('The same as `total`; kept for clients written before it.')
}).meta({ id: 'PostPageMeta', examples: [{ next_cursor: 'WzEsInBvc3RzIiwibmV3ZXN0IiwiMjAxNC0xMC0xNVQxMDowMDowMC4wMDBaIl0', total: 27, total_exact: true, estimated_total: 27 }] })

function postPage<T extends z.ZodType> (item: T, id: string) {
  return z.object({ data: z.array(item), included: IncludedSchema.optional(), meta: PostPageMetaSchema, links: PageLinksSchema }).meta({ id })
}

export const PostPageSchema = postPage(PostListItemSchema, 'PostPage')
export const PreviewPostPageSchema = postPage(PreviewPostSchema, 'PreviewPostPage')
export const SparsePostPageSchema = postPage(SparsePostSchema, 'SparsePostPage')

export const PostResponseSchema = z.object({ data: PostSchema, included: IncludedSchema.optional() }).meta({ id: 'PostResponse' })
export const PreviewPostResponseSchema = z.object({ data: PreviewPostSchema, included: IncludedSchema.optional() }).meta({ id: 'PreviewPostResponse' })
export const SparsePostResponseSchema = z.object({ data: SparsePostSchema, included: IncludedSchema.optional() }).meta({ id: 'SparsePostResponse' })

/** The documented variants of post responses (see above), for `x-response-variants`. */
export const POST_PAGE_VARIANTS = { fields: 'SparsePostPage', preview: 'PreviewPostPage' }
export const POST_RESPONSE_VARIANTS = { fields: 'SparsePostResponse', preview: 'PreviewPostResponse' }

// A query string reads `+` as a space (HTML forms, URLSearchParams), so `...T00:00:00+05:30`
// written into a URL unencoded arrives as `...T00:00:00 05:30`: the 400 says so, rather than
// guessing which sign was meant.
const UNENCODED_PLUS_OFFSET = /T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)? \d{2}:\d{2}$/
const dateParam = z.union([z.iso.datetime({ offset: true }).meta({ examples: ['2014-10-01T00:00:00Z'] }), z.iso.date().meta({ examples: ['2014-10-01'] })],
  {
    error: (issue) => typeof issue.input === 'string' && UNENCODED_PLUS_OFFSET.test(issue.input)
      ? 'must be an ISO 8601 date or date-time; its offset starts with a space, which is how a query string reads an unencoded +: send + as %2B'
      : 'must be an ISO 8601 date or date-time'
  })
  .transform((value) => new Date(value))

export const INCLUDABLE = ['authors', 'tags', 'blog'] as const
// Field and relation names are checked after parsing (posts.service.ts checkedNames), so that the
// 400 names every unknown one and the known ones; the document lists them as the items' enum.
const nameIn = (names: readonly string[]) => z.string().meta({ enum: [...names] })

export const PostListQuerySchema = z.object({
  limit: LimitSchema,
  cursor: CursorSchema.optional(),
  blog: list(IdOrSlugSchema, 20, 'blog', 'under-the-black-flag').optional()
    .describe('Only posts of these blogs (ids or slugs, comma-separated).'),
  author: list(IdOrSlugSchema, 20, 'author', 'joanna-paraszczuk').optional()
    .describe('Only posts by any of these authors (every author of a post counts).'),
  tag: list(IdOrSlugSchema, 20, 'tag', 'islamic-state,syria').optional().describe('Only posts with any of these tags.'),
  ids: list(z.uuid(), 100, 'id', '0149133f-f900-7000-8000-0000000003e8').optional().describe('Only these posts (comma-separated ids).'),
  language: LanguageTagSchema.optional()
    .describe('Only posts in this language (BCP 47 tag, exact match).').meta({ examples: ['en'] }),
  is_breaking: booleanParam.optional().describe('true: only breaking news; false: none of it.'),
  is_featured: booleanParam.optional().describe('true: only featured posts; false: none of them.'),
  published_after: dateParam.optional().describe('Only posts published after this time (exclusive); a date or a date-time with offset.'),
  published_before: dateParam.optional().describe('Only posts published before this time (exclusive); a date or a date-time with offset.'),
  // Control characters (C0 and C1) but tab and line breaks, written out: \p{Cc} is outside the
  // regular expressions JSON Schema tools share, and read without the `u` flag it is the letters
  // p, C, c and braces (Spectral's oas ruleset refused the document's own example, "coalition").
  // eslint-disable-next-line no-control-regex -- these are the characters it refuses
  q: z.string().trim().min(1).max(200).regex(/^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$/, 'must not contain control characters').optional()
    .describe('Full-text search, web-search syntax: "quoted phrase", -excluded, or. A search has a time limit: a page may then hold fewer posts than `limit`, even none, and still have a `next_cursor` that goes on where it stopped; follow it until it is null. By relevance, a search with more matches than can be ranked in time is a 422.').meta({ examples: ['Lavrov "coalition" -Ukraine'] }),
  sort: z.enum(['-published_at', 'published_at', 'relevance']).default('-published_at')
    .describe('-published_at: newest first (default); published_at: oldest first; relevance: best match first (needs q).'),
  fields: list(nameIn(POST_FIELDS), 30, 'field', 'title,url,published_at').optional()
    .describe(`Only these fields of each post (id is always there): ${POST_FIELDS.join(', ')}. Items are then SparsePost.`),
  formats: list(z.enum(['html', 'plaintext']), 2, 'format', 'plaintext').optional()
    .describe('Bodies to add to each post: html (body_html), plaintext (body_text).'),
  include: list(nameIn(INCLUDABLE), 3, 'relation', 'authors,tags').optional()
    .describe('Related resources to add in `included`: authors, tags, blog.'),
  status: list(PostStatusSchema, 4, 'status', 'draft,scheduled').optional()
    .describe('Needs a key with content:preview: only posts in these states. Without it, lists show only published posts.'),
  count: z.enum(['estimate']).optional()
    .describe(`estimate: add meta.total, how many posts match: counted up to ${withThousandsSeparators(EXACT_COUNT_LIMIT)} (${withThousandsSeparators(EXACT_SEARCH_COUNT_LIMIT)} with q), the planner's estimate beyond (meta.total_exact says which).`)
}).strict()

export type PostListQuery = z.infer<typeof PostListQuerySchema>

export const PostIdParamsSchema = z.object({ id: z.string().max(200).describe('The post id (UUID).') })
export const BlogPostParamsSchema = z.object({ blog: IdOrSlugSchema, slug: z.string().min(1).max(200).describe('The post slug.') })
export const SinglePostQuerySchema = z.object({
  include: list(nameIn(INCLUDABLE), 3, 'relation').optional().describe('Related resources to add in `included`: authors, tags, blog.'),
  fields: list(nameIn(POST_FIELDS), 30, 'field', 'title,url,body_html').optional()
    .describe(`Only these fields of the post (id is always there): ${POST_FIELDS.join(', ')}. The post is then a SparsePost.`),
  formats: list(z.enum(['html', 'plaintext']), 2, 'format', 'html,plaintext').optional()
    .describe('Bodies to add: plaintext adds body_text (body_html is always there unless `fields=` leaves it out).')
}).strict()

// Writes. Bodies use the response's field names; blog, authors and tags take ids or slugs.

const MAX_BODY = 500_000

export const LeadImageInputSchema = z.object({
  url: HttpUrlSchema,
  alt: z.string().max(1000).nullable().optional(),
  caption: z.string().max(2000).nullable().optional(),
  credit: z.string().max(300).nullable().optional(),
  width: z.number().int().min(1).max(100_000).nullable().optional(),
  height: z.number().int().min(1).max(100_000).nullable().optional()
}).strict().meta({ id: 'LeadImageWrite', examples: [{ url: FLAGSHIP_LEAD_IMAGE.url, alt: FLAGSHIP_LEAD_IMAGE.alt, caption: FLAGSHIP_LEAD_IMAGE.caption }] })

const postWriteFields = {
  blog: IdOrSlugSchema.describe('The blog, by id or slug.'),
  slug: SlugSchema.optional().describe('Derived from the title when not given; unique within the blog.'),
  title: z.string().trim().min(1).max(300),
  subtitle: z.string().max(500).nullable().optional(),
  excerpt: z.string().max(2000).nullable().optional(),
  body_html: z.string().max(MAX_BODY).optional().describe('Article HTML; sanitized (scripts, event handlers, javascript: URLs and styles are removed).'),
  body_markdown: z.string().max(MAX_BODY).optional().describe('Alternative to body_html: Markdown, rendered and then sanitized.'),
  lead_image: LeadImageInputSchema.nullable().optional(),
  language: LanguageTagSchema.optional(),
  is_breaking: z.boolean().optional(),
  is_featured: z.boolean().optional(),
  authors: z.array(IdOrSlugSchema).max(20).optional().describe('In byline order, by id or slug.'),
  tags: z.array(IdOrSlugSchema).max(50).optional().describe('By id or slug.'),
  seo: SeoInputSchema.optional().describe('Search and social fields that differ from the article\'s defaults.')
}

const oneBody = (body: { body_html?: string | undefined, body_markdown?: string | undefined }) =>
  body.body_html === undefined || body.body_markdown === undefined

export const CreatePostSchema = z.object({
  ...postWriteFields,
  // Optional rather than .default('draft'): a default marks the field required in generated client types.
  status: z.enum(['draft', 'published']).optional().describe('draft (the default) or published right away.'),
  published_at: z.iso.datetime({ offset: true }).optional().describe('With status published: the publish time (default now; a future time schedules).')
}).strict()
  .refine(oneBody, { message: 'give body_html or body_markdown, not both', path: ['body_markdown'] })
  .meta({
    id: 'CreatePost',
    examples: [{
      blog: 'under-the-black-flag',
      title: EXAMPLE_POST.title,
      excerpt: EXAMPLE_POST.excerpt,
      body_markdown: 'The Russian Foreign Ministry has put out a statement ...',
      lead_image: { url: FLAGSHIP_LEAD_IMAGE.url, alt: FLAGSHIP_LEAD_IMAGE.alt, caption: FLAGSHIP_LEAD_IMAGE.caption },
      authors: ['joanna-paraszczuk'],
      tags: ['islamic-state', 'russia'],
      is_breaking: true,
      status: 'published'
    }]
  })
export type CreatePostBody = z.infer<typeof CreatePostSchema>

/** A lead image in a PATCH: as application/merge-patch+json only the fields given change (http/media-types.ts). */
export const LeadImagePatchSchema = LeadImageInputSchema.partial().strict().meta({
  id: 'LeadImagePatch',
  description: 'As application/json, the new lead image whole (url required); as application/merge-patch+json, the fields to change (url required only when the post has no lead image). null removes it.',
  examples: [{ caption: FLAGSHIP_LEAD_IMAGE.caption }]
})

export const UpdatePostSchema = z.object({
  ...postWriteFields,
  lead_image: LeadImagePatchSchema.nullable().optional(),
  seo: SeoInputSchema.nullable().optional().describe('The fields given change, null clears one back to its default; seo: null clears them all.')
}).partial().strict()
  .refine(oneBody, { message: 'give body_html or body_markdown, not both', path: ['body_markdown'] })
  .refine((body) => Object.keys(body).length > 0, 'give at least one field to change')
  .meta({ id: 'UpdatePost', examples: [{ subtitle: 'Moscow says it will not join the U.S.-led coalition', tags: ['islamic-state', 'russia', 'syria'] }] })
export type UpdatePostBody = z.infer<typeof UpdatePostSchema>

export const PublishPostSchema = z.object({
  at: z.iso.datetime({ offset: true }).optional().describe('When to publish: now if absent; a future time schedules the post.')
}).strict().meta({ id: 'PublishPost', examples: [{ at: '2014-10-15T10:00:00Z' }] })

export const WrittenPostResponseSchema = z.object({ data: PreviewPostSchema }).meta({ id: 'WrittenPost' })
