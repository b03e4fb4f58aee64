import { sql, type Selectable } from 'kysely'
import type { Executor } from '../../db/database.ts'
import type { TagsTable } from '../../db/schema.ts'
import type { IdOrSlug } from '../addressing/identifiers.ts'
import { publiclyVisible } from '../posts/posts.repository.ts'

export type TagRow = Pick<Selectable<TagsTable>,
  'id' | 'slug' | 'name' | 'description' | 'version' | 'created_at' | 'updated_at'> & { latest_post_at: Date | null }

function selectTags (db: Executor) {
  return db.selectFrom('tags as t')
    .select(['t.id', 't.slug', 't.name', 't.description', 't.version', 't.created_at', 't.updated_at'])
    // Newest public post first along (tag_id, published_at DESC): one index probe.
    .select((eb) => eb.selectFrom('post_tags as pt').innerJoin('posts as p', 'p.id', 'pt.post_id')
      .select('p.published_at').whereRef('pt.tag_id', '=', 't.id').where(publiclyVisible)
      .orderBy(sql`pt.published_at DESC`).limit(1).as('latest_post_at'))
}

export async function listTags (db: Executor, page: { limit: number, afterSlug?: string | undefined }): Promise<TagRow[]> {
  let query = selectTags(db).orderBy('t.slug').limit(page.limit)
  if (page.afterSlug !== undefined) query = query.where('t.slug', '>', page.afterSlug)
  return query.execute() as Promise<TagRow[]>
}

export async function findTag (db: Executor, key: IdOrSlug): Promise<TagRow | undefined> {
  const query = selectTags(db)
  return ('id' in key ? query.where('t.id', '=', key.id) : query.where('t.slug', '=', key.slug))
    .executeTakeFirst() as Promise<TagRow | undefined>
}

export async function findTagsByIds (db: Executor, ids: readonly string[]): Promise<TagRow[]> {
  if (ids.length === 0) return []
  return selectTags(db).where('t.id', 'in', [...ids]).orderBy('t.slug').execute() as Promise<TagRow[]>
}
