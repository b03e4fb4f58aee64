import type { Links } from '../../content/common/site.ts'
import { findAuthorsByIds } from '../../content/authors/authors.repository.ts'
import { toAuthor } from '../../content/authors/authors.mapper.ts'
import { findBlogsByIds } from '../../content/blogs/blogs.repository.ts'
import { toBlog } from '../../content/blogs/blogs.mapper.ts'
import { toPost } from '../../content/posts/posts.mapper.ts'
import { listPosts, type Audience } from '../../content/posts/posts.repository.ts'
import { findTagsByIds } from '../../content/tags/tags.repository.ts'
import { toTag } from '../../content/tags/tags.mapper.ts'
import type { Executor } from '../../db/database.ts'
import type { EntityType } from '../../changes/vocabulary.ts'

/**
 * The current API representation of each resource that a batch of changes upserts, in four
 * queries at most; missing from the map when the audience cannot see it (any more).
 */
export async function loadChangeData (
  db: Executor, links: Links, rows: ReadonlyArray<{ entity_type: EntityType, entity_id: string }>, audience: Audience
): Promise<Map<string, unknown>> {
  const ids = (type: EntityType) => [...new Set(rows.filter((r) => r.entity_type === type).map((r) => r.entity_id))]
  const postIds = ids('post')
  const [posts, blogs, authors, tags] = await Promise.all([
    postIds.length === 0 ? [] : listPosts(db, { filter: { ids: postIds }, sort: 'newest', limit: postIds.length, withBody: true, audience }),
    findBlogsByIds(db, ids('blog')),
    findAuthorsByIds(db, ids('author')),
    findTagsByIds(db, ids('tag'))
  ])
  const data = new Map<string, unknown>()
  for (const row of posts) data.set(row.id, toPost(row, links))
  for (const row of blogs) data.set(row.id, toBlog(row, links.site))
  for (const row of authors) data.set(row.id, toAuthor(row))
  for (const row of tags) data.set(row.id, toTag(row))
  return data
}
