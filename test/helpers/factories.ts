import { uuidv7 } from 'uuidv7'
import type { Kysely } from 'kysely'
import type { Scope } from '../../src/access/scopes.ts'
import type { PostStatus } from '../../src/content/posts/post-status.ts'
import type { DB } from '../../src/db/schema.ts'
import { revokeApiKey } from '../../src/access/api-keys/api-keys.repository.ts'
import { createApiKey } from '../../src/access/api-keys/api-keys.service.ts'

// Test fixtures, written straight to the database: each returns the row it made.

let counter = 0
const unique = () => `${Date.now().toString(36)}-${(counter++).toString(36)}`

export async function newBlog (db: Kysely<DB>, overrides: Partial<{ slug: string, title: string, description: string, language: string }> = {}) {
  const slug = overrides.slug ?? `blog-${unique()}`
  return db.insertInto('blogs')
    .values({ id: uuidv7(), slug, title: overrides.title ?? `Blog ${slug}`, description: overrides.description ?? '', language: overrides.language ?? 'en' })
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function newAuthor (db: Kysely<DB>, overrides: Partial<{ slug: string, name: string, bio: string }> = {}) {
  const slug = overrides.slug ?? `author-${unique()}`
  return db.insertInto('authors')
    .values({ id: uuidv7(), slug, name: overrides.name ?? `Author ${slug}`, bio: overrides.bio ?? '' })
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function newTag (db: Kysely<DB>, overrides: Partial<{ slug: string, name: string }> = {}) {
  const slug = overrides.slug ?? `tag-${unique()}`
  return db.insertInto('tags').values({ id: uuidv7(), slug, name: overrides.name ?? `Tag ${slug}` })
    .returningAll()
    .executeTakeFirstOrThrow()
}

export interface NewPost {
  blogId: string
  slug?: string
  title?: string
  bodyText?: string
  status?: PostStatus
  publishedAt?: Date | string | null
  deletedAt?: Date | string | null
  language?: string
  isBreaking?: boolean
  isFeatured?: boolean
  authorIds?: string[]
  tagIds?: string[]
  leadImageUrl?: string | null
}

/** A published post (unless told otherwise), published a minute ago by default. */
export async function newPost (db: Kysely<DB>, post: NewPost) {
  const slug = post.slug ?? `post-${unique()}`
  const bodyText = post.bodyText ?? `Body of ${slug}.`
  const status = post.status ?? 'published'
  const publishedAt = post.publishedAt !== undefined ? post.publishedAt : (status === 'draft' ? null : new Date(Date.now() - 60_000))
  const row = await db.insertInto('posts').values({
    id: uuidv7(),
    blog_id: post.blogId,
    slug,
    title: post.title ?? `Post ${slug}`,
    subtitle: null,
    excerpt: null,
    body_html: `<p>${bodyText}</p>`,
    body_text: bodyText,
    word_count: bodyText.split(/\s+/).length,
    lead_image_url: post.leadImageUrl ?? null,
    lead_image_alt: null,
    lead_image_caption: null,
    lead_image_credit: null,
    lead_image_width: null,
    lead_image_height: null,
    language: post.language ?? 'en',
    status,
    is_breaking: post.isBreaking ?? false,
    is_featured: post.isFeatured ?? false,
    published_at: publishedAt,
    deleted_at: post.deletedAt ?? null
  }).returningAll().executeTakeFirstOrThrow()
  const authorIds = post.authorIds ?? []
  const tagIds = post.tagIds ?? []
  if (authorIds.length > 0) await db.insertInto('post_authors').values(authorIds.map((author_id, position) => ({ post_id: row.id, author_id, position }))).execute()
  if (tagIds.length > 0) await db.insertInto('post_tags').values(tagIds.map((tag_id, position) => ({ post_id: row.id, tag_id, position }))).execute()
  return row
}

/** A real API key with these scopes; `revoked` makes one that has been revoked. */
export async function newApiKey (db: Kysely<DB>, scopes: Scope[], options: { revoked?: boolean } = {}): Promise<string> {
  const { row, key } = await createApiKey(db, `test key ${unique()}`, scopes)
  if (options.revoked === true) await revokeApiKey(db, row.id)
  return key
}
