import type { Transaction } from 'kysely'
import { uuidv7 } from 'uuidv7'
import type { z } from 'zod'
import { appendChanges } from '../../changes/change-log.repository.ts'
import type { ChangeEntry, ChangeOp } from '../../changes/vocabulary.ts'
import type { DB } from '../../db/schema.ts'
import { AppError } from '../../http/errors.ts'
import { preconditionFailed, satisfies, type VersionCondition } from '../../http/preconditions.ts'
import { deleteSlugRedirectsTo, recordSlugRename } from '../addressing/addressing.repository.ts'
import { findByReference, findOrNotFound, type Addressable } from '../addressing/find-or-redirect.ts'
import { slugify, storeUnderFreeSlug } from '../addressing/slugs.ts'
import type { ResourceRow, ResourceSpec } from './resource.spec.ts'
import { currentVersion, deleteResource, insertResource, insertResourceUnlessSlugTaken, takenSlugs, updateResource } from './resources.repository.ts'

// Creating, changing and deleting a blog, author or tag. Every function runs in the caller's
// transaction: the row, its slug redirects, what happens to its posts and the change-log
// entries commit together or not at all.

type Tx = Transaction<DB>

function change (spec: ResourceSpec, id: string, op: ChangeOp, created = false): ChangeEntry {
  const entity = spec.address.entity
  return { entityType: entity, entityId: id, blogId: entity === 'blog' ? id : null, op, publicOp: op, event: created ? `${entity}.created` : undefined }
}

function slugTakenError (spec: ResourceSpec, slug: string): AppError {
  return new AppError(409, 'slug_taken', `Another ${spec.noun} already has the slug "${slug}".`)
}

/** Returns the new resource's id. */
export async function createResource<Create extends z.ZodObject> (tx: Tx, spec: ResourceSpec<ResourceRow, Create>, body: z.infer<Create>): Promise<string> {
  const given = (body as { slug?: string }).slug
  if (given !== undefined && (await takenSlugs(tx, spec.table, [given])).size > 0) throw slugTakenError(spec, given)
  const id = uuidv7()
  const values = (slug: string) => ({ ...spec.toColumns(body), id, slug })
  if (given !== undefined) {
    await insertResource(tx, spec.table, values(given))
  } else {
    await storeUnderFreeSlug(await slugify(spec.titleOf(body), spec.noun), (candidates) => takenSlugs(tx, spec.table, candidates),
      (slug) => insertResourceUnlessSlugTaken(tx, spec.table, values(slug)))
  }
  await appendChanges(tx, [change(spec, id, 'upsert', true)])
  return id
}

/** Changes the fields given, under the If-Match version when there is one; a new slug keeps the old one as a redirect. */
export async function updateResourceFields (tx: Tx, spec: ResourceSpec, ref: string, body: Record<string, unknown>, version: VersionCondition): Promise<string> {
  const row = await findOrNotFound(tx, spec.address, ref)
  const newSlug = (body as { slug?: string }).slug
  if (newSlug !== undefined && newSlug !== row.slug && (await takenSlugs(tx, spec.table, [newSlug], row.id)).size > 0) throw slugTakenError(spec, newSlug)
  const updated = await updateResource(tx, spec.table, row.id, spec.toColumns(body), version)
  if (updated === undefined) throw preconditionFailed(await currentVersion(tx, spec.table, row.id) ?? row.version)
  if (updated.slug !== row.slug) await recordSlugRename(tx, spec.address.entity, null, row.slug, updated.slug, row.id)
  await appendChanges(tx, [change(spec, row.id, 'upsert')])
  return row.id
}

/** Deletes the resource after its spec has dealt with its posts (moved, removed, or a 409). */
export async function deleteResourceWithPosts<DeleteQuery extends z.ZodObject> (
  tx: Tx, spec: ResourceSpec<ResourceRow, z.ZodObject, DeleteQuery>, ref: string, query: z.infer<DeleteQuery>, version: VersionCondition
): Promise<void> {
  const row = await findOrNotFound(tx, spec.address, ref)
  if (!satisfies(version, row.version)) throw preconditionFailed(row.version)
  const postChanges = await spec.beforeDelete(tx, row, query)
  await deleteSlugRedirectsTo(tx, row.id)
  if (!await deleteResource(tx, spec.table, row.id, version)) throw preconditionFailed(await currentVersion(tx, spec.table, row.id) ?? row.version)
  await appendChanges(tx, [change(spec, row.id, 'delete'), ...postChanges])
}

/**
 * The resource a delete's query names to take over the posts (`move_posts_to`,
 * `reassign_posts_to`): it must exist and be another one than the resource deleted, or 422.
 */
export async function takeoverTarget<Row extends { id: string }> (
  tx: Tx, address: Addressable<Row>, ref: string, deletedId: string, parameter: string
): Promise<Row> {
  const target = await findByReference(tx, address, ref)
  if (target === undefined || target.id === deletedId) {
    const other = `names no other ${address.label.toLowerCase()}`
    throw new AppError(422, 'unknown_reference', `${parameter} ${other}: "${ref}".`, { errors: [{ path: `query.${parameter}`, message: other }] })
  }
  return target
}
