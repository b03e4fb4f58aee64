import type { Transaction } from 'kysely'
import type { DB } from '../db/schema.ts'
import { countWords } from '../content/posts/post-text.ts'
import type { DemoAuthor, DemoBlog, DemoPost, DemoTag } from './demo-content.ts'

// Inserts that leave existing rows alone: seeding twice changes nothing. Each insert returns
// the ids it really wrote, and only those get a change-log entry (seed-demo.ts appends them).

type Tx = Transaction<DB>

// Fixed times, so the demo reads the same on every machine and every run.
const DEMO_EPOCH = '2014-06-01T00:00:00Z'

/** Inserts the rows that are not there yet; returns the ids it wrote. */
async function insertNew (tx: Tx, table: 'blogs' | 'authors' | 'tags', rows: ReadonlyArray<Record<string, unknown>>): Promise<string[]> {
  const inserted = await tx.insertInto(table as 'blogs').values(rows as never).onConflict((oc) => oc.doNothing()).returning('id').execute()
  return inserted.map((row) => row.id)
}

export async function insertBlogs (tx: Tx, blogs: DemoBlog[]): Promise<string[]> {
  return insertNew(tx, 'blogs', blogs.map((b) => ({
    id: b.id, slug: b.slug, title: b.title, description: b.description, language: b.language, created_at: b.createdAt, updated_at: b.createdAt
  })))
}

export async function insertAuthors (tx: Tx, authors: DemoAuthor[]): Promise<string[]> {
  return insertNew(tx, 'authors', authors.map((a) => ({
    id: a.id, slug: a.slug, name: a.name, bio: a.bio, avatar_url: a.avatarUrl, links: JSON.stringify(a.links), created_at: DEMO_EPOCH, updated_at: DEMO_EPOCH
  })))
}

export async function insertTags (tx: Tx, tags: DemoTag[]): Promise<string[]> {
  return insertNew(tx, 'tags', tags.map((t) => ({
    id: t.id, slug: t.slug, name: t.name, description: t.description, created_at: DEMO_EPOCH, updated_at: DEMO_EPOCH
  })))
}

function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

export async function insertPosts (tx: Tx, posts: DemoPost[]): Promise<string[]> {
  const rows = await tx.insertInto('posts')
    .values(posts.map((p) => {
      const bodyText = p.paragraphs.join('\n\n')
      const created = p.publishedAt ?? '2014-10-01T00:00:00Z'
      return {
        id: p.id,
        blog_id: p.blogId,
        slug: p.slug,
        title: p.title,
        subtitle: p.subtitle,
        excerpt: p.excerpt,
        body_html: p.paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`).join('\n'),
        body_text: bodyText,
        word_count: countWords(bodyText),
        lead_image_url: p.leadImage?.url ?? null,
        lead_image_alt: p.leadImage?.alt ?? null,
        lead_image_caption: p.leadImage?.caption ?? null,
        lead_image_credit: p.leadImage?.credit ?? null,
        lead_image_width: p.leadImage?.width ?? null,
        lead_image_height: p.leadImage?.height ?? null,
        language: p.language,
        status: p.status,
        is_breaking: p.isBreaking,
        is_featured: p.isFeatured,
        published_at: p.publishedAt,
        created_at: created,
        updated_at: created,
        deleted_at: p.deleted ? created : null
      }
    }))
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .execute()
  const inserted = new Set(rows.map((row) => row.id))
  const fresh = posts.filter((p) => inserted.has(p.id))
  const authorRows = fresh.flatMap((p) => p.authorIds.map((author_id, position) => ({ post_id: p.id, author_id, position })))
  const tagRows = fresh.flatMap((p) => p.tagIds.map((tag_id, position) => ({ post_id: p.id, tag_id, position })))
  if (authorRows.length > 0) await tx.insertInto('post_authors').values(authorRows).execute()
  if (tagRows.length > 0) await tx.insertInto('post_tags').values(tagRows).execute()
  return [...inserted]
}
