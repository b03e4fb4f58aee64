import type { PostRow } from './posts.repository.ts'
import type { Post, PostField, PostListItem } from './posts.schemas.ts'
import { readingTimeMinutes } from './post-text.ts'
import { effectiveStatus } from './post-status.ts'

/** The public web address of a post, from the configured template. */
export function postUrl (template: string, row: Pick<PostRow, 'id' | 'slug' | 'blog_slug' | 'sort_time'>): string {
  const iso = row.sort_time.toISOString()
  const values: Record<string, string> = {
    blog: row.blog_slug, slug: row.slug, id: row.id, yyyy: iso.slice(0, 4), mm: iso.slice(5, 7), dd: iso.slice(8, 10)
  }
  return template.replace(/\{([a-z]+)\}/g, (whole, name: string) => values[name] ?? whole)
}

export function toPost (row: PostRow, urlTemplate: string): Post {
  return {
    id: row.id,
    blog: { id: row.blog_id, slug: row.blog_slug, title: row.blog_title },
    slug: row.slug,
    url: postUrl(urlTemplate, row),
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

export function toPostListItem (row: PostRow, urlTemplate: string, fields: readonly PostField[]): PostListItem {
  const post = toPost(row, urlTemplate)
  const item: Partial<Post> & { id: string } = { id: post.id }
  for (const field of fields) (item as Record<string, unknown>)[field] = post[field]
  return item
}
