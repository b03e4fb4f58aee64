import { z } from 'zod'
import { IdOrSlugSchema } from '../../content/addressing/identifiers.ts'
import { LanguageTagSchema, TimestampSchema } from '../../content/common/fields.ts'
import { BlogSummarySchema, SummarySchema } from '../../content/posts/posts.schemas.ts'
import { integerParam } from '../../http/pagination.ts'

export const FEED_FORMATS = ['json', 'rss', 'atom', 'jsonfeed'] as const
export type FeedFormat = (typeof FEED_FORMATS)[number]

const commaList = z.string().max(4200).transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean))
  .pipe(z.array(IdOrSlugSchema).min(1).max(20))

export const FeedQuerySchema = z.object({
  format: z.enum(FEED_FORMATS).optional()
    .describe('json (compact, for widgets), rss, atom or jsonfeed (JSON Feed 1.1). Without it, the Accept header decides; json by default.'),
  limit: integerParam(1, 100).default(20).describe('Items, 1 to 100.'),
  content: z.enum(['summary', 'full']).default('summary').describe('full: each item carries the whole sanitized article.'),
  blog: commaList.optional().describe('Only posts of these blogs (ids or slugs).'),
  author: commaList.optional().describe('Only posts by any of these authors.'),
  tag: commaList.optional().describe('Only posts with any of these tags.'),
  language: LanguageTagSchema.optional()
}).strict()
export type FeedQuery = z.infer<typeof FeedQuerySchema>

export const FeedItemSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  url: z.string(),
  excerpt: z.string().nullable(),
  published_at: TimestampSchema,
  updated_at: TimestampSchema,
  blog: BlogSummarySchema,
  authors: z.array(SummarySchema),
  thumbnail: z.string().nullable().describe('The lead image URL.'),
  is_breaking: z.boolean(),
  content_html: z.string().optional().describe('With content=full.')
}).meta({ id: 'FeedItem' })
export type FeedItem = z.infer<typeof FeedItemSchema>

export const JsonFeedSchema = z.object({
  data: z.array(FeedItemSchema),
  meta: z.object({ title: z.string(), feed_url: z.string() })
}).meta({ id: 'Feed', description: 'The compact JSON feed ("Latest Posts" widgets). RSS, Atom and JSON Feed 1.1 carry the same items.' })
