import { latestPublicChangeTime } from '../../changes/change-log.repository.ts'
import type { Executor } from '../../db/database.ts'

/** A resource that embeds nothing that changes apart from it: its own row's time. */
export async function ownLastModified (_db: Executor, row: { updated_at: Date }): Promise<Date> {
  return row.updated_at
}

/**
 * An author or a tag shows the time of its latest public post, which any post change can move
 * (backwards too, on an unpublish): its own row's time and the newest post change together.
 */
export async function bylineLastModified (db: Executor, row: { updated_at: Date }): Promise<Date> {
  const postChange = await latestPublicChangeTime(db, 'post')
  return postChange === undefined || postChange < row.updated_at ? row.updated_at : postChange
}
