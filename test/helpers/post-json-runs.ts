import { sql, type Kysely } from 'kysely'
import { BLOG_OBJECT_TEXT, STORED_RUNS, storedRunText } from '../../src/content/posts/post-json.repository.ts'
import type { DB } from '../../src/db/schema.ts'

/** Posts whose stored JSON runs are not what post-json.repository.ts computes from their rows now (or are missing). */
export async function postsWithDriftedRuns (db: Kysely<DB>): Promise<Array<{ id: string, run: string }>> {
  const { rows } = await sql<{ id: string, run: string }>`
    SELECT p.id, r.run FROM posts p CROSS JOIN LATERAL (VALUES ${sql.join(STORED_RUNS.map((run) =>
      sql`(${run}, ${sql.ref(`p.${run}`)} IS DISTINCT FROM ${storedRunText(run)})`))}) AS r(run, drifted)
    WHERE r.drifted`.execute(db)
  return rows
}

/** Blogs whose stored object (the blog of their posts' JSON) is not what post-json.repository.ts computes from their rows now (or is missing). */
export async function blogsWithDriftedJson (db: Kysely<DB>): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`SELECT b.id FROM blogs b WHERE b.json_summary IS DISTINCT FROM ${BLOG_OBJECT_TEXT} ORDER BY b.id`.execute(db)
  return rows.map((row) => row.id)
}
