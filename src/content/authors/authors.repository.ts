import { sql, type Selectable } from 'kysely'
import type { Executor } from '../../db/database.ts'
import type { AuthorsTable } from '../../db/schema.ts'
import type { IdOrSlug } from '../addressing/identifiers.ts'
import { publiclyVisible } from '../posts/posts.repository.ts'

export type AuthorRow = Pick<Selectable<AuthorsTable>,
  'id' | 'slug' | 'name' | 'bio' | 'avatar_url' | 'links' | 'version' | 'created_at' | 'updated_at'> & { latest_post_at: Date | null }

function selectAuthors (db: Executor) {
  return db.selectFrom('authors as a')
    .select(['a.id', 'a.slug', 'a.name', 'a.bio', 'a.avatar_url', 'a.links', 'a.version', 'a.created_at', 'a.updated_at'])
    // Newest public post first along (author_id, published_at DESC): one index probe.
    .select((eb) => eb.selectFrom('post_authors as pa').innerJoin('posts as p', 'p.id', 'pa.post_id')
      .select('p.published_at').whereRef('pa.author_id', '=', 'a.id').where(publiclyVisible)
      .orderBy(sql`pa.published_at DESC`).limit(1).as('latest_post_at'))
}

export async function listAuthors (db: Executor, page: { limit: number, afterSlug?: string | undefined }): Promise<AuthorRow[]> {
  let query = selectAuthors(db).orderBy('a.slug').limit(page.limit)
  if (page.afterSlug !== undefined) query = query.where('a.slug', '>', page.afterSlug)
  return query.execute() as Promise<AuthorRow[]>
}

export async function findAuthor (db: Executor, key: IdOrSlug): Promise<AuthorRow | undefined> {
  const query = selectAuthors(db)
  return ('id' in key ? query.where('a.id', '=', key.id) : query.where('a.slug', '=', key.slug))
    .executeTakeFirst() as Promise<AuthorRow | undefined>
}

export async function findAuthorsByIds (db: Executor, ids: readonly string[]): Promise<AuthorRow[]> {
  if (ids.length === 0) return []
  return selectAuthors(db).where('a.id', 'in', [...ids]).orderBy('a.slug').execute() as Promise<AuthorRow[]>
}
