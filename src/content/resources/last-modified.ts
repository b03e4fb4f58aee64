import type { LatestPostChange } from '../../changes/change-log.repository.ts'

// When a resource as the API shows it last changed: its response's Last-Modified.

/** A resource that embeds nothing that changes apart from it: its own row's time. */
export function ownLastModified (row: { updated_at: Date }): Date {
  return row.updated_at
}

/**
 * An author or a tag shows the time of its latest public post, which a change to one of its
 * posts can move (backwards too, on an unpublish): its own row's time and the newest change to
 * its posts together, the latter read with the row, in its statement (ownLatestPostChangeColumn).
 */
export function bylineLastModified (row: { updated_at: Date } & LatestPostChange): Date {
  const postChange = row.latest_post_change
  return postChange === null || postChange < row.updated_at ? row.updated_at : postChange
}
