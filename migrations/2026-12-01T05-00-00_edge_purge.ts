import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// Edge purges go out once every API process has applied a change (dropped its own cached
// copies, moved its replica floor past it), so a refill after the purge can only see the change.
// Each process records how far it has applied the change log; the purge position is a cursor
// like the webhook fan-out's, starting at the newest change so history is not purged again.

export async function up (db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE change_followers (
    process_id text PRIMARY KEY,
    applied_seq bigint NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db)
  await sql`INSERT INTO change_cursors (name, seq) SELECT 'edge-purge', coalesce(max(seq), 0) FROM changes`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM change_cursors WHERE name = 'edge-purge'`.execute(db)
  await sql`DROP TABLE change_followers`.execute(db)
}
