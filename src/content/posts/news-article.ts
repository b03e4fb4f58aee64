import { z } from 'zod'
import type { BlogRow } from '../blogs/blogs.repository.ts'
import { blogWebsite, withoutTrailingSlashes, type Links } from '../common/site.ts'
import { cutText } from '../common/text.ts'
import { toPost } from './posts.mapper.ts'
import type { PostRow } from './posts.repository.ts'

// A post as schema.org NewsArticle JSON-LD, ready for <script type="application/ld+json"> as it
// is. Built to Google's article structured-data guidelines: headline at most 110 characters,
// images as absolute URLs (and, where their size is known, only those of at least 50,000
// pixels), dates in ISO 8601 with a time zone, authors as Person with a URL, the publication
// as Organization with its logo.

const HEADLINE_MAX = 110
const MIN_IMAGE_PIXELS = 50_000

const ImageObjectSchema = z.object({ '@type': z.literal('ImageObject'), url: z.string(), width: z.number().int().optional(), height: z.number().int().optional() })

export const NewsArticleSchema = z.object({
  '@context': z.literal('https://schema.org'),
  '@type': z.literal('NewsArticle'),
  mainEntityOfPage: z.object({ '@type': z.literal('WebPage'), '@id': z.string() }),
  url: z.string(),
  headline: z.string().max(HEADLINE_MAX),
  alternativeHeadline: z.string().optional(),
  description: z.string(),
  image: z.array(ImageObjectSchema).optional(),
  datePublished: z.string(),
  dateModified: z.string(),
  author: z.array(z.object({ '@type': z.literal('Person'), name: z.string(), url: z.string() })),
  publisher: z.object({ '@type': z.literal('Organization'), name: z.string(), url: z.string(), logo: ImageObjectSchema.optional() }),
  isAccessibleForFree: z.boolean(),
  inLanguage: z.string(),
  articleSection: z.string().optional(),
  keywords: z.array(z.string()).optional(),
  wordCount: z.number().int().min(0)
}).meta({
  id: 'NewsArticle',
  description: 'schema.org NewsArticle (JSON-LD), for the page\'s script element of type `application/ld+json`.',
  examples: [{
    '@context': 'https://schema.org',
    '@type': 'NewsArticle',
    mainEntityOfPage: { '@type': 'WebPage', '@id': 'https://news.example.com/under-the-black-flag/2014/10/is-moscow-walking-back-is-intel-sharing-reports' },
    url: 'https://news.example.com/under-the-black-flag/2014/10/is-moscow-walking-back-is-intel-sharing-reports',
    headline: "Is Moscow Walking Back 'IS Intel-Sharing' Reports?",
    description: 'The Russian Foreign Ministry says Moscow will not be part of the U.S.-led coalition against the Islamic State group.',
    image: [{ '@type': 'ImageObject', url: 'https://static.example.com/under-the-black-flag/2014/10/kerry-lavrov-paris.jpg' }],
    datePublished: '2014-10-15T10:00:00.000Z',
    dateModified: '2014-10-15T10:00:00.000Z',
    author: [{ '@type': 'Person', name: 'Joanna Paraszczuk', url: 'https://news.example.com/author/joanna-paraszczuk/' }],
    publisher: { '@type': 'Organization', name: 'Under The Black Flag', url: 'https://news.example.com/under-the-black-flag', logo: { '@type': 'ImageObject', url: 'https://static.example.com/under-the-black-flag/logo-600x60.png' } },
    isAccessibleForFree: true,
    inLanguage: 'en',
    articleSection: 'Islamic State',
    keywords: ['Islamic State', 'Russia'],
    wordCount: 565
  }]
})
export type NewsArticle = z.infer<typeof NewsArticleSchema>

function headline (title: string): string {
  return title.length <= HEADLINE_MAX ? title : `${cutText(title, HEADLINE_MAX - 1).trimEnd()}…`
}

/** Where an author's page is: on the website when one is known, else the API's author. */
function authorUrl (links: Links, website: string | null, slug: string): string {
  return website === null ? `${links.apiBase}/v1/authors/${encodeURIComponent(slug)}` : `${withoutTrailingSlashes(website)}/author/${encodeURIComponent(slug)}/`
}

export function toNewsArticle (row: PostRow, blog: BlogRow, links: Links): NewsArticle {
  const post = toPost(row, links)
  const website = blogWebsite(blog, links.site)
  const lead = row.lead_image_url === null
    ? []
    : [{ url: row.lead_image_url, width: row.lead_image_width ?? undefined, height: row.lead_image_height ?? undefined }]
  const social = row.og_image_url === null || row.og_image_url === row.lead_image_url ? [] : [{ url: row.og_image_url, width: undefined, height: undefined }]
  // Images too small for Google's article results are left out where their size is known.
  const images = [...lead, ...social]
    .filter((image) => image.width === undefined || image.height === undefined || image.width * image.height >= MIN_IMAGE_PIXELS)
    .map((image) => ({ '@type': 'ImageObject' as const, url: image.url, ...(image.width === undefined ? {} : { width: image.width }), ...(image.height === undefined ? {} : { height: image.height }) }))
  return {
    '@context': 'https://schema.org',
    '@type': 'NewsArticle',
    mainEntityOfPage: { '@type': 'WebPage', '@id': post.seo.canonical_url },
    url: post.url,
    headline: headline(post.seo.meta_title === post.title ? post.title : post.seo.meta_title),
    ...(post.subtitle === null ? {} : { alternativeHeadline: post.subtitle }),
    description: post.seo.meta_description,
    ...(images.length === 0 ? {} : { image: images }),
    datePublished: post.published_at ?? row.created_at.toISOString(),
    dateModified: post.updated_at,
    author: post.authors.map((author) => ({ '@type': 'Person' as const, name: author.name, url: authorUrl(links, website, author.slug) })),
    publisher: {
      '@type': 'Organization',
      name: blog.title,
      url: website ?? `${links.apiBase}/v1/blogs/${encodeURIComponent(blog.slug)}`,
      ...(blog.logo_url === null ? {} : { logo: { '@type': 'ImageObject' as const, url: blog.logo_url } })
    },
    isAccessibleForFree: true,
    inLanguage: post.language,
    ...(post.tags.length === 0 ? {} : { articleSection: post.tags[0]?.name, keywords: post.tags.map((tag) => tag.name) }),
    wordCount: post.word_count
  }
}
