import type { Selectable } from 'kysely'
import { z } from 'zod'
import type { PostsTable } from '../../db/schema.ts'
import { HttpUrlSchema, pickDefined } from '../common/fields.ts'

// What search engines and social networks read about a post. Editors may set each field; what
// they leave empty defaults from the article (title, excerpt, lead image, page URL), so a
// frontend can always put `seo` in its <head> as it is. Lengths are what the consumers show
// before they cut: Google's title and snippet, Open Graph and X/Twitter cards.

export const SEO_LIMITS = { meta_title: 70, meta_description: 160, og_title: 95, og_description: 200, twitter_title: 70, twitter_description: 200 } as const

const text = (max: number, what: string) => z.string().trim().min(1).max(max, `at most ${max} characters (${what} cut longer ones)`).nullable().optional()

export const SeoInputSchema = z.object({
  meta_title: text(SEO_LIMITS.meta_title, 'search results'),
  meta_description: text(SEO_LIMITS.meta_description, 'search result snippets'),
  canonical_url: HttpUrlSchema.nullable().optional().describe('When the article\'s original lives elsewhere.'),
  og_title: text(SEO_LIMITS.og_title, 'link previews'),
  og_description: text(SEO_LIMITS.og_description, 'link previews'),
  og_image: HttpUrlSchema.nullable().optional(),
  twitter_title: text(SEO_LIMITS.twitter_title, 'X/Twitter cards'),
  twitter_description: text(SEO_LIMITS.twitter_description, 'X/Twitter cards'),
  twitter_image: HttpUrlSchema.nullable().optional(),
  noindex: z.boolean().optional().describe('true: search engines must not index the post (robots noindex); it stays out of sitemaps.')
}).strict().meta({
  id: 'SeoWrite',
  description: 'Set what differs from the article; null clears a field back to its default.',
  examples: [{ meta_title: 'Moscow walks back IS intel-sharing reports', og_image: 'https://static.example.com/social/kerry-lavrov-1200x630.jpg', noindex: false }]
})
export type SeoInput = z.infer<typeof SeoInputSchema>

export const SeoSchema = z.object({
  meta_title: z.string().describe('The <title> and search result title: the editor\'s, else the post title.'),
  meta_description: z.string().describe('The meta description: the editor\'s, else the excerpt, else the subtitle, else the title.'),
  canonical_url: z.string().describe('<link rel="canonical">: the editor\'s, else the post\'s own url.'),
  og_title: z.string(),
  og_description: z.string(),
  og_image: z.string().nullable().describe('Else the lead image.'),
  twitter_title: z.string(),
  twitter_description: z.string(),
  twitter_image: z.string().nullable(),
  robots: z.enum(['index, follow', 'noindex, follow']).describe('For <meta name="robots"> (the API sends X-Robots-Tag too).')
}).meta({
  id: 'Seo',
  examples: [{
    meta_title: "Is Moscow Walking Back 'IS Intel-Sharing' Reports?",
    meta_description: 'The Russian Foreign Ministry says Moscow will not be part of the U.S.-led coalition against the Islamic State group.',
    canonical_url: 'https://news.example.com/under-the-black-flag/2014/10/is-moscow-walking-back-is-intel-sharing-reports',
    og_title: "Is Moscow Walking Back 'IS Intel-Sharing' Reports?",
    og_description: 'The Russian Foreign Ministry says Moscow will not be part of the U.S.-led coalition against the Islamic State group.',
    og_image: 'https://static.example.com/under-the-black-flag/2014/10/kerry-lavrov-paris.jpg',
    twitter_title: "Is Moscow Walking Back 'IS Intel-Sharing' Reports?",
    twitter_description: 'The Russian Foreign Ministry says Moscow will not be part of the U.S.-led coalition against the Islamic State group.',
    twitter_image: 'https://static.example.com/under-the-black-flag/2014/10/kerry-lavrov-paris.jpg',
    robots: 'index, follow'
  }]
})
export type Seo = z.infer<typeof SeoSchema>

/** The stored SEO columns of a post row. */
export type SeoColumns = Pick<Selectable<PostsTable>, 'meta_title' | 'meta_description' | 'canonical_url' | 'og_title' | 'og_description' |
  'og_image_url' | 'twitter_title' | 'twitter_description' | 'twitter_image_url' | 'noindex'>

/** Every SEO field back to its default: what `seo: null` in a PATCH asks for. */
const NO_SEO: Record<string, unknown> = {
  meta_title: null,
  meta_description: null,
  canonical_url: null,
  og_title: null,
  og_description: null,
  og_image_url: null,
  twitter_title: null,
  twitter_description: null,
  twitter_image_url: null,
  noindex: false
}

/** The columns a write's `seo` sets (a PATCH changes only the keys it names; null, all of them). */
export function seoColumns (seo: SeoInput | null | undefined): Record<string, unknown> {
  if (seo === undefined) return {}
  if (seo === null) return NO_SEO
  return pickDefined({
    meta_title: seo.meta_title,
    meta_description: seo.meta_description,
    canonical_url: seo.canonical_url,
    og_title: seo.og_title,
    og_description: seo.og_description,
    og_image_url: seo.og_image,
    twitter_title: seo.twitter_title,
    twitter_description: seo.twitter_description,
    twitter_image_url: seo.twitter_image,
    noindex: seo.noindex
  })
}

/** What a frontend puts in <head>: each field as set, or its default from the article. */
export function toSeo (row: SeoColumns & { title: string, subtitle: string | null, excerpt: string | null, lead_image_url: string | null }, url: string): Seo {
  const description = row.meta_description ?? row.excerpt ?? row.subtitle ?? row.title
  const title = row.meta_title ?? row.title
  return {
    meta_title: title,
    meta_description: description,
    canonical_url: row.canonical_url ?? url,
    og_title: row.og_title ?? title,
    og_description: row.og_description ?? description,
    og_image: row.og_image_url ?? row.lead_image_url,
    twitter_title: row.twitter_title ?? row.og_title ?? title,
    twitter_description: row.twitter_description ?? row.og_description ?? description,
    twitter_image: row.twitter_image_url ?? row.og_image_url ?? row.lead_image_url,
    robots: row.noindex ? 'noindex, follow' : 'index, follow'
  }
}
