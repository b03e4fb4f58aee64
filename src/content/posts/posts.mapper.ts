import { postUrls, type Links } from '../common/site.ts'
import type { PostRow } from './posts.repository.ts'
import type { Post, PostField, PostListItem } from './posts.schemas.ts'
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

export function toPost (row: PostRow, links: Links): Post {
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
    body_html: row.body_html ?? '',
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
    authors: row.authors,
    tags: row.tags,
    status: effectiveStatus(row),
    published_at: row.published_at?.toISOString() ?? null,
    updated_at: row.updated_at.toISOString()
  }
}

export function toPostListItem (row: PostRow, links: Links, fields: readonly PostField[]): PostListItem {
  const post = toPost(row, links)
  const item: Partial<Post> & { id: string } = { id: post.id }
  for (const field of fields) (item as Record<string, unknown>)[field] = post[field]
  return item
}
