import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// The change log grew by a row for every write, forever. It is now compacted the way Kafka
// compacts a topic (src/syndication/change-log-compaction.ts): a row that a newer row of the same
// resource, in the same blog, makes redundant for every reader goes once it is old enough. This
// cursor says how far that has got. A webhook delivery keeps the position it was made from as a
// number, no longer a reference: its payload is its own, and its record must outlive the change
// (the reference cascaded, so compacting a change would have erased its deliveries' history).

export async function up (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_change_seq_fkey`.execute(db)
  await sql`INSERT INTO change_cursors (name, seq) VALUES ('compaction', 0)`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM change_cursors WHERE name = 'compaction'`.execute(db)
  // NOT VALID: deliveries of compacted changes have no row to point at any more.
  await sql`ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_change_seq_fkey
    FOREIGN KEY (change_seq) REFERENCES changes (seq) ON DELETE CASCADE NOT VALID`.execute(db)
}
