import { postUrls, type Links } from '../common/site.ts'
import { toSeo } from './post-seo.ts'
import type { PostRow, Summary } from './posts.repository.ts'
import type { PostField, PreviewPost, SparsePost } from './posts.schemas.ts'
import { readingTimeMinutes } from './post-text.ts'
import { effectiveStatus } from './post-status.ts'

/** The post's page on the website and its API URL (content/common/site.ts). */
export function postRowUrls (row: PostRow, links: Links): { url: string, api_url: string } {
  return postUrls({
    id: row.id,
    slug: row.slug,
    sort_time: row.sort_time,
    blog: { slug: row.blog_slug, website_url: row.blog_website_url, post_url_template: row.blog_post_url_template }
  }, links)
}

/**
 * Every field of a post that its row holds (the bodies only where the query selected them), as
 * a preview key sees it; public rows always have a publish time, so public readers get a Post.
 */
export function toPost (row: PostRow, links: Links): PreviewPost {
  const { url, api_url: apiUrl } = postRowUrls(row, links)
  return {
    id: row.id,
    blog: { id: row.blog_id, slug: row.blog_slug, title: row.blog_title },
    slug: row.slug,
    url,
    api_url: apiUrl,
    title: row.title,
    subtitle: row.subtitle,
    excerpt: row.excerpt,
    ...(row.body_html === null ? {} : { body_html: row.body_html }),
    ...(row.body_text === null ? {} : { body_text: row.body_text }),
    word_count: row.word_count,
    reading_time_minutes: readingTimeMinutes(row.word_count),
    lead_image: row.lead_image_url === null
      ? null
      : {
          url: row.lead_image_url,
          alt: row.lead_image_alt,
          caption: row.lead_image_caption,
          credit: row.lead_image_credit,
          width: row.lead_image_width,
          height: row.lead_image_height
        },
    language: row.language,
    is_breaking: row.is_breaking,
    is_featured: row.is_featured,
    authors: row.authors.map(summary),
    tags: row.tags.map(summary),
    status: effectiveStatus(row),
    published_at: row.published_at?.toISOString() ?? null,
    updated_at: row.updated_at.toISOString(),
    seo: toSeo(row, url)
  }
}

// Only a summary's own keys, in the schema's order, whatever else the row's summary carries.
const summary = ({ id, slug, name }: Summary): Summary => ({ id, slug, name })

/** The post with only the fields asked for (and its id). */
export function withFields (post: PreviewPost, fields: readonly PostField[]): SparsePost {
  const item: SparsePost = { id: post.id }
  for (const field of fields) if (post[field] !== undefined) (item as Record<string, unknown>)[field] = post[field]
  return item
}
