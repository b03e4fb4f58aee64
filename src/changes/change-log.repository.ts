import { sql } from 'kysely'
import type { Executor } from '../db/database.ts'
import { eventOf, type ChangeEntry, type ChangeEvent, type ChangeOp, type EntityType } from './vocabulary.ts'

// The only module that touches the `changes` table. Writers append inside the transaction of
// the change itself; readers (the sync API, webhooks, the response cache, feeds) read ranges.

export interface ChangeRow {
  seq: string
  entity_type: EntityType
  entity_id: string
  blog_id: string | null
  op: ChangeOp
  public_op: ChangeOp | null
  event: ChangeEvent | null
  occurred_at: Date
  /** A post's authors and tags as of the change (null on rows from before they were kept), and those it left. */
  author_ids: string[] | null
  tag_ids: string[] | null
  left_author_ids: string[] | null
  left_tag_ids: string[] | null
}

/** The blogs, authors and tags whose lists a post change touched, by id. */
export interface PostChangeOwners { blog: string[], author: string[], tag: string[] }

/**
 * Whose lists a post change touched: its blog (a move writes a row in the blog it left too), its
 * authors and tags as the change left them, and those it took the post from. Undefined for a row
 * written before the log named a post's bylines.
 */
export function ownersOfPostChange (change: Pick<ChangeRow, 'blog_id' | 'author_ids' | 'tag_ids' | 'left_author_ids' | 'left_tag_ids'>): PostChangeOwners | undefined {
  if (change.author_ids === null || change.tag_ids === null) return undefined
  const union = (now: readonly string[], left: readonly string[] | null) => [...new Set([...now, ...(left ?? [])])]
  return {
    blog: change.blog_id === null ? [] : [change.blog_id],
    author: union(change.author_ids, change.left_author_ids),
    tag: union(change.tag_ids, change.left_tag_ids)
  }
}

const CHANGE_COLUMNS = ['seq', 'entity_type', 'entity_id', 'blog_id', 'op', 'public_op', 'event', 'occurred_at', 'author_ids', 'tag_ids', 'left_author_ids', 'left_tag_ids'] as const

/** The channel that tells every process (and long-polling clients) that the log grew. */
export const CHANGES_CHANNEL = 'content_changes'

// Appending takes this transaction-scoped lock, held until commit: sequence numbers then
// commit in order, so a reader that has seen seq n can never later find a smaller one.
// Change-log writes are serialized by it; content writes are few next to reads.
const APPEND_LOCK = 7_350_001

/** Appends to the change log. Call it inside the transaction of the change it describes. */
export async function appendChanges (db: Executor, entries: readonly ChangeEntry[]): Promise<void> {
  if (entries.length === 0) return
  await sql`SELECT pg_advisory_xact_lock(${APPEND_LOCK})`.execute(db)
  const appended = await db.insertInto('changes').values(entries.map((entry) => ({
    entity_type: entry.entityType,
    entity_id: entry.entityId,
    blog_id: entry.blogId,
    op: entry.op,
    public_op: entry.publicOp,
    event: eventOf(entry),
    left_author_ids: nonEmpty(entry.left?.authorIds),
    left_tag_ids: nonEmpty(entry.left?.tagIds),
    // Read in the change's own transaction, after it: the bylines as the change left them.
    author_ids: entry.entityType === 'post' ? sql<string[]>`array(SELECT author_id FROM post_authors WHERE post_id = ${entry.entityId}::uuid)` : null,
    tag_ids: entry.entityType === 'post' ? sql<string[]>`array(SELECT tag_id FROM post_tags WHERE post_id = ${entry.entityId}::uuid)` : null
  }))).returning('seq').execute()
  if (entries.some((entry) => entry.entityType === 'post' && entry.publicOp !== null)) await touchPostLists(db, appended.map((row) => row.seq))
  // Delivered when (and only if) the transaction commits.
  await sql`SELECT pg_notify(${CHANGES_CHANNEL}, '')`.execute(db)
}

/**
 * Moves the time the public last saw the posts of a blog, author or tag change (a feed's
 * Last-Modified; post_list_changes) for the owners these changes name: each public post
 * change's blog, its authors and tags, and those it left; and the network's, which every public
 * post change moves. The time of the append, not of the
 * transaction's start (occurred_at): appends take turns under APPEND_LOCK, so a transaction that
 * began earlier but appends after another has committed still moves the time past what readers
 * of that one were told (with now(), greatest() would have kept the later start).
 */
async function touchPostLists (db: Executor, seqs: readonly string[]): Promise<void> {
  await sql`
    INSERT INTO post_list_changes (owner_type, owner_id, changed_at)
    SELECT owners.owner_type, owners.owner_id, clock_timestamp() FROM (
      SELECT DISTINCT owner.owner_type, owner.owner_id FROM changes AS c
      CROSS JOIN LATERAL (
        SELECT 'blog', c.blog_id WHERE c.blog_id IS NOT NULL
        UNION ALL SELECT 'author', unnest(coalesce(c.author_ids, '{}') || coalesce(c.left_author_ids, '{}'))
        UNION ALL SELECT 'tag', unnest(coalesce(c.tag_ids, '{}') || coalesce(c.left_tag_ids, '{}'))
        UNION ALL SELECT 'network', ${sql.lit(NETWORK_ID)}::uuid) AS owner (owner_type, owner_id)
      WHERE c.seq = ANY(${seqs}::bigint[]) AND c.entity_type = 'post' AND c.public_op IS NOT NULL) AS owners
    -- Each owner once (DISTINCT above), so no row is updated twice by one statement.
    ON CONFLICT (owner_type, owner_id) DO UPDATE SET changed_at = greatest(post_list_changes.changed_at, excluded.changed_at)`.execute(db)
}

const nonEmpty = (ids: readonly string[] | undefined) => ids === undefined || ids.length === 0 ? null : [...ids]

export interface ChangeRange {
  afterSeq: string
  /** The last position to include; unbounded by default. */
  throughSeq?: string | undefined
  limit: number
  types?: readonly EntityType[] | undefined
  blogId?: string | undefined
  /** public: only what the public saw change; all: every change (preview keys); events: only changes that announce an event. */
  visibility: 'public' | 'all' | 'events'
}

/**
 * The next changes after a position, in order. Writers append under a lock held until they
 * commit, so once a reader sees seq n, every seq below n is visible too and a cursor never
 * steps past a change that commits later.
 */
export async function listChanges (db: Executor, range: ChangeRange): Promise<ChangeRow[]> {
  let query = db.selectFrom('changes').select(CHANGE_COLUMNS)
    .where(sql<boolean>`seq > ${range.afterSeq}::bigint`)
    .orderBy('seq')
    .limit(range.limit)
  if (range.throughSeq !== undefined) query = query.where(sql<boolean>`seq <= ${range.throughSeq}::bigint`)
  if (range.types !== undefined) query = query.where('entity_type', 'in', [...range.types])
  // Every change that announces an event is public (eventOf), so both stay on changes_public_idx.
  if (range.visibility !== 'all') query = query.where('public_op', 'is not', null)
  if (range.visibility === 'events') query = query.where('event', 'is not', null)
  if (range.blogId !== undefined) query = query.where('blog_id', '=', range.blogId)
  return query.execute() as Promise<ChangeRow[]>
}

export interface CompactionPass {
  /** Where the pass began. */
  from: string
  /** The position compaction has reached: every row up to it was compared with the older ones. */
  reached: string
  /** Rows this pass deleted. */
  deleted: number
}

/**
 * One pass of log compaction, as Kafka compacts a topic: every row up to the new position
 * deletes the older rows of its resource in its blog that it makes redundant for every reader
 * (a row the public saw goes only for a newer one the public saw: a public reader between them
 * must still hear of it). A reader who replays from any position then ends with the same state,
 * missing only what came in between; a resource's newest row, and so every delete, stays. A row
 * that names feeds a post left (ChangeEntry.left) stays too: a newer row does not say so, and a
 * WebSub publisher held back by its hub must still find it (byline corrections are few).
 * Looks at up to `batch` rows past the compaction cursor, none past `through` nor any from
 * `olderThan` on; undefined when another process holds the cursor. Call inside a transaction.
 */
export async function compactChanges (db: Executor, options: { through: string, olderThan: Date, batch: number }): Promise<CompactionPass | undefined> {
  const cursor = await db.selectFrom('change_cursors').select('seq').where('name', '=', COMPACTION_CURSOR).forUpdate().skipLocked().executeTakeFirst()
  if (cursor === undefined) return undefined
  // The next rows in order, up to the first one too young: occurred_at is the time the writing
  // transaction began, so it can be a little out of order with seq.
  const { rows: [window] } = await sql<{ up_to: string | null }>`
    WITH next AS (
      SELECT seq, occurred_at FROM changes
      WHERE seq > ${cursor.seq}::bigint AND seq <= ${options.through}::bigint ORDER BY seq LIMIT ${options.batch})
    SELECT coalesce((SELECT min(seq) - 1 FROM next WHERE occurred_at >= ${options.olderThan}), (SELECT max(seq) FROM next))::text AS up_to`.execute(db)
  const upTo = window?.up_to ?? null
  if (upTo === null || BigInt(upTo) <= BigInt(cursor.seq)) return { from: cursor.seq, reached: cursor.seq, deleted: 0 }
  const deleted = await sql`
    DELETE FROM changes AS older USING changes AS newer
    WHERE newer.seq > ${cursor.seq}::bigint AND newer.seq <= ${upTo}::bigint
      AND older.entity_type = newer.entity_type AND older.entity_id = newer.entity_id AND older.seq < newer.seq
      AND older.blog_id IS NOT DISTINCT FROM newer.blog_id
      AND (older.public_op IS NULL OR newer.public_op IS NOT NULL)
      AND older.left_author_ids IS NULL AND older.left_tag_ids IS NULL`.execute(db)
  await db.updateTable('change_cursors').set({ seq: upTo, updated_at: sql<Date>`now()` }).where('name', '=', COMPACTION_CURSOR).execute()
  return { from: cursor.seq, reached: upTo, deleted: Number(deleted.numAffectedRows ?? 0n) }
}

const COMPACTION_CURSOR = 'compaction'

/** The newest change's position, or '0' on an empty log. */
export async function latestChangeSeq (db: Executor): Promise<string> {
  const row = await db.selectFrom('changes').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst()
  return row?.seq ?? '0'
}

/** A blog, author or tag, whose posts' changes alone move its lists (post_list_changes). */
export interface PostListOwner { type: Exclude<EntityType, 'post'>, id: string }

/**
 * The network's row in post_list_changes: every public post change moves it. Its time, not the
 * newest change row's occurred_at (a transaction's start), is what unfiltered feeds say: a
 * transaction that began before another committed can append after it, and its occurred_at would
 * take a feed's Last-Modified back past what that one's readers were told.
 */
const NETWORK_ID = '00000000-0000-0000-0000-000000000000'

/**
 * When the public last saw a post of one of `owners` change (those that left it among them), or
 * of any with none: a time that only moves forward (touchPostLists). Changes to drafts do not
 * count: what a public response shows did not change. Undefined before any public post change.
 */
export async function latestPostChangeTime (db: Executor, owners: readonly PostListOwner[] = []): Promise<Date | undefined> {
  const row = await db.selectNoFrom(ownersTimeSql(owners).as('changed_at')).executeTakeFirst()
  return row?.changed_at ?? undefined
}

/**
 * latestPostChangeTime as a scalar subquery, to select alongside other rows: it reads the same
 * snapshot as they do, in the same statement (a feed's page and its Last-Modified), and
 * PostgreSQL runs it once per execution however many rows come back (an InitPlan). The ids go in
 * as values: a prepared page (posts.repository.ts) makes them parameters.
 */
function ownersTimeSql (owners: readonly PostListOwner[]) {
  const byType = new Map<string, unknown[]>()
  for (const owner of owners.length === 0 ? [{ type: 'network', id: sql.lit(NETWORK_ID) }] : owners) {
    byType.set(owner.type, [...byType.get(owner.type) ?? [], owner.id])
  }
  const matches = [...byType].map(([type, ids]) => sql`(l.owner_type = ${sql.lit(type)} AND l.owner_id IN (${sql.join(ids)}))`)
  return sql<Date | null>`(SELECT max(l.changed_at) FROM post_list_changes AS l WHERE ${sql.join(matches, sql` OR `)})`
}

/** A row selected with latestPostChangeColumn: when the public last saw a post change, in the row's snapshot. */
export interface LatestPostChange { latest_post_change: Date | null }

/**
 * Each row's own time as the column `latest_post_change` (LatestPostChange): when the public
 * last saw a post of this author or tag (`idColumn`) change, those it lost among them.
 */
export function ownLatestPostChangeColumn (type: 'author' | 'tag', idColumn: 'a.id' | 't.id') {
  return sql<Date | null>`(SELECT l.changed_at FROM post_list_changes AS l WHERE l.owner_type = ${sql.lit(type)} AND l.owner_id = ${sql.ref(idColumn)})`
    .as('latest_post_change')
}

/**
 * The newest public post change of `owners`' posts (of any, with none) as the column
 * `latest_post_change` (LatestPostChange): what feeds' Last-Modified counts.
 */
export function latestPostChangeColumn (owners: readonly PostListOwner[]) {
  return ownersTimeSql(owners).as('latest_post_change')
}
