import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// The posts that have no JSON runs yet (post_json_on_the_row stored them for its window only),
// indexed so a background pass (src/content/posts/json-runs-backfill.ts) finds them without
// reading the table: the index holds only those posts, and is empty once they are done.

export async function up (db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX posts_without_json_runs ON posts (id) WHERE json_summary IS NULL`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX posts_without_json_runs`.execute(db)
}
