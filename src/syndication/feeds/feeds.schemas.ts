import { z } from 'zod'
import { IdOrSlugSchema } from '../../content/addressing/identifiers.ts'
import { LanguageTagSchema, TimestampSchema } from '../../content/common/fields.ts'
import { listParam } from '../../content/common/query-params.ts'
import { BlogSummarySchema, SummarySchema } from '../../content/posts/posts.schemas.ts'
import { integerParam } from '../../http/pagination.ts'
import { FLAGSHIP_LEAD_IMAGE } from '../../demo/flagship-post.ts'

export const FEED_FORMATS = ['json', 'rss', 'atom', 'jsonfeed'] as const
export type FeedFormat = (typeof FEED_FORMATS)[number]

export const FeedQuerySchema = z.object({
  format: z.enum(FEED_FORMATS).optional()
    .describe('json (compact, for widgets), rss, atom or jsonfeed (JSON Feed 1.1). Without it, the Accept header decides by RFC 9110 rules (generic XML, application/xml or text/xml, gets rss); json by default.'),
  limit: integerParam(1, 100).default(20).describe('Items, 1 to 100.'),
  content: z.enum(['summary', 'full']).default('summary').describe('full: each item carries the whole sanitized article.'),
  blog: listParam(IdOrSlugSchema, 20, 'blog', 'under-the-black-flag').optional().describe('Only posts of these blogs (ids or slugs).'),
  author: listParam(IdOrSlugSchema, 20, 'author', 'joanna-paraszczuk').optional().describe('Only posts by any of these authors.'),
  tag: listParam(IdOrSlugSchema, 20, 'tag', 'islamic-state,syria').optional().describe('Only posts with any of these tags.'),
  language: LanguageTagSchema.optional()
}).strict()
export type FeedQuery = z.infer<typeof FeedQuerySchema>

const EXAMPLE_FEED_ITEM = {
  id: '0149127d-1240-7000-8000-0000000003e8',
  title: "Is Moscow Walking Back 'IS Intel-Sharing' Reports?",
  url: 'https://news.example.com/under-the-black-flag/2014/10/is-moscow-walking-back-is-intel-sharing-reports',
  excerpt: 'The Russian Foreign Ministry says Moscow will not be part of the U.S.-led coalition against the Islamic State group.',
  published_at: '2014-10-15T10:00:00.000Z',
  updated_at: '2014-10-15T10:00:00.000Z',
  blog: { id: '01465a6e-4000-7000-8000-000000000001', slug: 'under-the-black-flag', title: 'Under The Black Flag' },
  authors: [{ id: '01465a6e-4000-7000-8000-000000000065', slug: 'joanna-paraszczuk', name: 'Joanna Paraszczuk' }],
  thumbnail: FLAGSHIP_LEAD_IMAGE.url,
  is_breaking: true
}

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
  content_html: z.string().optional().describe('With content=full: the article\'s HTML, its relative links and images resolved against `url`.')
}).meta({ id: 'FeedItem', examples: [EXAMPLE_FEED_ITEM] })
export type FeedItem = z.infer<typeof FeedItemSchema>

export const JsonFeedSchema = z.object({
  data: z.array(FeedItemSchema),
  meta: z.object({ title: z.string(), feed_url: z.string() })
}).meta({ id: 'Feed', examples: [{ data: [EXAMPLE_FEED_ITEM], meta: { title: 'Latest Posts', feed_url: 'https://api.example.com/v1/feeds/latest' } }], description: 'The compact JSON feed ("Latest Posts" widgets). RSS, Atom and JSON Feed 1.1 carry the same items.' })

const JsonFeedAuthorSchema = z.object({ name: z.string() })

/** JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/) as this API writes it; a test parses every feed with it. */
export const JsonFeed11Schema = z.object({
  version: z.literal('https://jsonfeed.org/version/1.1'),
  title: z.string(),
  home_page_url: z.string().describe('The blog\'s (or network\'s) website, else the API\'s page of it.'),
  feed_url: z.string(),
  description: z.string().optional(),
  language: z.string().optional(),
  hubs: z.array(z.object({ type: z.literal('WebSub'), url: z.string() })).optional().describe('With WEBSUB_HUB_URL set.'),
  items: z.array(z.object({
    id: z.string().describe('urn:uuid:<post id>, stable across edits and renames.'),
    url: z.string(),
    title: z.string(),
    summary: z.string().optional(),
    content_html: z.string().optional().describe('With content=full: the article\'s HTML, its relative links and images resolved against `url`.'),
    content_text: z.string().optional().describe('Without content=full: the excerpt, or the title.'),
    image: z.string().optional(),
    _lead_image: z.object({
      alt: z.string().optional(),
      caption: z.string().optional(),
      credit: z.string().optional(),
      width: z.number().int().optional(),
      height: z.number().int().optional()
    }).optional().describe('Extension: the lead image\'s alt text, caption, credit and size.'),
    date_published: TimestampSchema,
    date_modified: TimestampSchema,
    authors: z.array(JsonFeedAuthorSchema),
    tags: z.array(z.string())
  }))
}).meta({
  id: 'JsonFeed',
  examples: [{
    version: 'https://jsonfeed.org/version/1.1',
    title: 'Under The Black Flag',
    home_page_url: 'https://news.example.com/under-the-black-flag',
    feed_url: 'https://api.example.com/v1/blogs/under-the-black-flag/feed?format=jsonfeed',
    language: 'en',
    items: [{
      id: 'urn:uuid:0149127d-1240-7000-8000-0000000003e8',
      url: EXAMPLE_FEED_ITEM.url,
      title: EXAMPLE_FEED_ITEM.title,
      summary: EXAMPLE_FEED_ITEM.excerpt,
      content_text: EXAMPLE_FEED_ITEM.excerpt,
      image: EXAMPLE_FEED_ITEM.thumbnail,
      _lead_image: { caption: FLAGSHIP_LEAD_IMAGE.caption ?? undefined, alt: FLAGSHIP_LEAD_IMAGE.alt ?? undefined },
      date_published: EXAMPLE_FEED_ITEM.published_at,
      date_modified: EXAMPLE_FEED_ITEM.updated_at,
      authors: [{ name: 'Joanna Paraszczuk' }],
      tags: ['Islamic State']
    }]
  }],
  description: 'JSON Feed 1.1 (format=jsonfeed or Accept: application/feed+json).' })
