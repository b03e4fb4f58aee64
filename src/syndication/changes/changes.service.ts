import { z } from 'zod'
import { listChanges, type ChangeRange, type ChangeRow } from '../../changes/change-log.repository.ts'
import type { ChangeSignal } from '../../changes/change-log.plugin.ts'
import { ENTITY_TYPES } from '../../changes/vocabulary.ts'
import type { Links } from '../../content/common/site.ts'
import type { Audience } from '../../content/posts/posts.repository.ts'
import type { Executor } from '../../db/database.ts'
import { decodeCursor, encodeCursor } from '../../http/pagination.ts'
import { loadChangeData } from './change-data.ts'
import type { Change, ChangesQuery } from './changes.schemas.ts'

// The sync API's work: where a client's cursor points, the next changes after it (waiting for
// one, on a long poll), and each change with the resource as the API shows it now.

const CHANGE_CURSOR = 'changes'
const ChangeCursorKey = z.tuple([z.string().regex(/^\d{1,19}$/)])

export interface ChangesDeps { db: Executor, links: Links, changeSignal: ChangeSignal }

/**
 * The next changes after `range.afterSeq`; with `waitMs`, waits for the first one to commit
 * (woken by the change signal) until the time is up, `abort` fires (the client went away) or
 * the process starts to close.
 */
export async function nextChanges (deps: ChangesDeps, range: ChangeRange, waitMs: number, clientGone: AbortSignal): Promise<ChangeRow[]> {
  const abort = AbortSignal.any([clientGone, deps.changeSignal.closing])
  let rows = await listChanges(deps.db, range)
  const deadline = Date.now() + waitMs
  while (rows.length === 0 && Date.now() < deadline && !abort.aborted) {
    await deps.changeSignal.wait(deadline - Date.now(), abort)
    if (abort.aborted) break
    rows = await listChanges(deps.db, range)
  }
  return rows
}

/** Reads a page of the change log for a client: its cursor decoded, the rows with their data, the next cursor. */
export async function readChanges (deps: ChangesDeps, query: ChangesQuery, blogId: string | undefined, abort: AbortSignal) {
  const afterSeq = query.since === undefined ? '0' : decodeCursor(CHANGE_CURSOR, query.since, ChangeCursorKey)[0]
  const range: ChangeRange = { afterSeq, limit: query.limit, types: query.types ?? ENTITY_TYPES, blogId, visibility: query.visibility }
  const rows = await nextChanges(deps, range, query.wait * 1000, abort)
  const audience: Audience = query.visibility === 'all' ? 'preview' : 'public'
  const data = await loadChangeData(deps.db, deps.links, rows.filter((row) => row.op === 'upsert'), audience)
  const changes = rows.flatMap((row): Change[] => {
    const op = (query.visibility === 'public' ? row.public_op : row.op) ?? row.op
    const resource = data.get(row.entity_id)
    // An upsert of something no longer visible is followed by the change that hid it.
    if (op === 'upsert' && resource === undefined) return []
    return [{
      seq: Number(row.seq),
      type: row.entity_type,
      id: row.entity_id,
      op,
      event: row.event,
      occurred_at: row.occurred_at.toISOString(),
      ...(op === 'upsert' ? { data: resource } : {})
    } as Change]
  })
  const last = rows.at(-1)?.seq ?? afterSeq
  return { data: changes, meta: { next_cursor: encodeCursor(CHANGE_CURSOR, [last]) } }
}
