import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// Feeds named a WebSub hub (WEBSUB_HUB_URL) but the hub was never told of an update, so its
// subscribers never heard of one. A publisher pings the hub from the change log, like webhook
// fan-out, from this cursor; it starts at the newest change so history is not announced again.
// The process that pings holds the cursor by a lease (leased_until), not a row lock: a lock would
// keep a transaction, and on the embedded database its one connection, open across the request
// to the hub.

export async function up (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE change_cursors ADD COLUMN leased_until timestamptz`.execute(db)
  await sql`INSERT INTO change_cursors (name, seq) SELECT 'websub', coalesce(max(seq), 0) FROM changes`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM change_cursors WHERE name = 'websub'`.execute(db)
  await sql`ALTER TABLE change_cursors DROP COLUMN leased_until`.execute(db)
}
