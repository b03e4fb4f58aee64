import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// The scheduler looks every few seconds for scheduled posts whose time has come. Without an
// index that was a sequential scan of the whole posts table each time (at a million posts, one
// core kept busy, found by the benchmark). Scheduled posts are few: a small partial index.

export async function up (db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX posts_scheduled_due_idx ON posts (published_at) WHERE status = 'scheduled' AND deleted_at IS NULL`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX posts_scheduled_due_idx`.execute(db)
}
