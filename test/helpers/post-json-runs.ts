import { sql, type Kysely } from 'kysely'
import { BLOG_OBJECT_TEXT, RUNS, STORED_RUNS, storedRunText } from '../../src/content/posts/post-json.repository.ts'
import type { DB } from '../../src/db/schema.ts'

/** Posts whose stored JSON runs are not what post-json.repository.ts computes from their rows now (or are missing). */
export async function postsWithDriftedRuns (db: Kysely<DB>): Promise<Array<{ id: string, run: string }>> {
  const { rows } = await sql<{ id: string, run: string }>`
    SELECT p.id, d.run FROM posts p LEFT JOIN post_json_runs ${sql.raw(RUNS)} ON ${sql.ref(`${RUNS}.post_id`)} = p.id
    CROSS JOIN LATERAL (VALUES ${sql.join(STORED_RUNS.map((run) =>
      sql`(${run}, ${sql.ref(`${RUNS}.${run}`)} IS DISTINCT FROM ${storedRunText(run)})`))}) AS d(run, drifted)
    WHERE d.drifted`.execute(db)
  return rows
}

/** Blogs whose stored object (the blog of their posts' JSON) is not what post-json.repository.ts computes from their rows now (or is missing). */
export async function blogsWithDriftedJson (db: Kysely<DB>): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`SELECT b.id FROM blogs b WHERE b.json_summary IS DISTINCT FROM ${BLOG_OBJECT_TEXT} ORDER BY b.id`.execute(db)
  return rows.map((row) => row.id)
}

/**
 * Takes the stored runs of the posts `where` selects (all when unsaid) away, as if they were
 * written before the runs were kept, and sets the background pass to walk every post again.
 */
export async function forgetRuns (db: Kysely<DB>, where = sql`true`): Promise<number> {
  const { numAffectedRows } = await sql`DELETE FROM post_json_runs WHERE post_id IN (SELECT id FROM posts WHERE ${where})`.execute(db)
  await sql`INSERT INTO post_json_runs_backfill (after_id) VALUES ('00000000-0000-0000-0000-000000000000')
    ON CONFLICT (only_row) DO UPDATE SET after_id = EXCLUDED.after_id`.execute(db)
  return Number(numAffectedRows ?? 0)
}
