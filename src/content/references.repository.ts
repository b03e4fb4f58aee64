import type { Executor } from '../db/database.ts'
import type { EntityType } from '../db/schema.ts'
import { isUuid, SLUG_PATTERN } from './identifiers.ts'

type ReferencedTable = 'blogs' | 'authors' | 'tags'

/**
 * Turns ids-or-slugs (as clients write them in filters) into ids. References that name nothing
 * are dropped: a filter on an unknown author simply matches no post.
 */
export async function resolveIds (db: Executor, table: ReferencedTable, refs: readonly string[]): Promise<string[]> {
  const ids = refs.filter(isUuid).map((id) => id.toLowerCase())
  const slugs = refs.filter((ref) => !isUuid(ref) && SLUG_PATTERN.test(ref))
  if (ids.length === 0 && slugs.length === 0) return []
  const rows = await db.selectFrom(table).select('id')
    .where((eb) => eb.or([
      ...(ids.length > 0 ? [eb('id', 'in', ids)] : []),
      ...(slugs.length > 0 ? [eb('slug', 'in', slugs)] : [])
    ]))
    .execute()
  return rows.map((row) => row.id)
}

/** Where an old slug now points, if it was renamed (scope: the blog, for posts). */
export async function findSlugRedirect (
  db: Executor, entity: EntityType, oldSlug: string, scopeId: string | null = null
): Promise<string | undefined> {
  const row = await db.selectFrom('slug_redirects').select('target_id')
    .where('entity_type', '=', entity)
    .where('old_slug', '=', oldSlug)
    .where((eb) => scopeId === null ? eb('scope_id', 'is', null) : eb('scope_id', '=', scopeId))
    .executeTakeFirst()
  return row?.target_id
}
