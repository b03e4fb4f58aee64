import type { Executor } from '../../db/database.ts'
import type { EntityType } from '../../changes/vocabulary.ts'
import { isUuid } from './identifiers.ts'
import { SLUG_PATTERN } from './slugs.ts'

// Names to ids: references as clients write them (id or slug), and old slugs that were renamed
// away and keep resolving to their resource.

export type ReferencedTable = 'blogs' | 'authors' | 'tags'

/**
 * Turns ids-or-slugs (as clients write them in filters) into ids. References that name nothing
 * are dropped: a filter on an unknown author simply matches no post.
 */
export async function resolveIds (db: Executor, table: ReferencedTable, refs: readonly string[]): Promise<string[]> {
  return (await resolveIdsInOrder(db, table, refs)).filter((id): id is string => id !== undefined)
}

/** Like resolveIds, but one answer per reference, in order: undefined where it names nothing. */
export async function resolveIdsInOrder (db: Executor, table: ReferencedTable, refs: readonly string[]): Promise<Array<string | undefined>> {
  if (refs.length === 0) return []
  const ids = refs.filter(isUuid).map((id) => id.toLowerCase())
  const slugs = refs.filter((ref) => !isUuid(ref) && SLUG_PATTERN.test(ref))
  const rows = ids.length === 0 && slugs.length === 0
    ? []
    : await db.selectFrom(table).select(['id', 'slug'])
      .where((eb) => eb.or([
        ...(ids.length > 0 ? [eb('id', 'in', ids)] : []),
        ...(slugs.length > 0 ? [eb('slug', 'in', slugs)] : [])
      ]))
      .execute()
  const byId = new Map(rows.map((row) => [row.id, row.id]))
  const bySlug = new Map(rows.map((row) => [row.slug, row.id]))
  return refs.map((ref) => isUuid(ref) ? byId.get(ref.toLowerCase()) : bySlug.get(ref))
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

/** Keeps an old slug pointing at its resource; a redirect that the new slug shadows goes away. */
export async function recordSlugRename (
  db: Executor, entity: EntityType, scopeId: string | null, oldSlug: string, newSlug: string, targetId: string
): Promise<void> {
  await db.deleteFrom('slug_redirects').where('entity_type', '=', entity).where('old_slug', '=', newSlug)
    .where((eb) => scopeId === null ? eb('scope_id', 'is', null) : eb('scope_id', '=', scopeId)).execute()
  await db.insertInto('slug_redirects').values({ entity_type: entity, scope_id: scopeId, old_slug: oldSlug, target_id: targetId })
    .onConflict((oc) => oc.columns(['entity_type', 'scope_id', 'old_slug']).doUpdateSet({ target_id: targetId, created_at: new Date() }))
    .execute()
}

/** The slugs these blogs, authors or tags had before a rename, which still redirect to them. */
export async function formerSlugs (db: Executor, entity: 'blog' | 'author' | 'tag', ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const rows = await db.selectFrom('slug_redirects').select('old_slug')
    .where('entity_type', '=', entity).where('scope_id', 'is', null).where('target_id', 'in', [...ids])
    .execute()
  return rows.map((row) => row.old_slug)
}

export async function deleteSlugRedirectsTo (db: Executor, targetId: string): Promise<void> {
  await db.deleteFrom('slug_redirects').where('target_id', '=', targetId).execute()
}
