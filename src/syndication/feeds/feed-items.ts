import type { Links } from '../../content/common/site.ts'
import { postRowUrls } from '../../content/posts/posts.mapper.ts'
import type { PostRow } from '../../content/posts/posts.repository.ts'
import { withAbsoluteUrls } from '../../content/posts/absolute-urls.ts'
import type { FeedItem } from './feeds.schemas.ts'

/** A post as an item of the compact JSON feed ("Latest Posts" widgets). */
export function toFeedItem (row: PostRow, links: Links, full: boolean): FeedItem {
  const url = postRowUrls(row, links).url
  return {
    id: row.id,
    title: row.title,
    url,
    excerpt: row.excerpt,
    published_at: (row.published_at ?? row.sort_time).toISOString(),
    updated_at: row.updated_at.toISOString(),
    blog: { id: row.blog_id, slug: row.blog_slug, title: row.blog_title },
    authors: row.authors,
    thumbnail: row.lead_image_url,
    is_breaking: row.is_breaking,
    ...(full ? { content_html: withAbsoluteUrls(row.body_html ?? '', url) } : {})
  }
}
