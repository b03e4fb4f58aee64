import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// Syndication needs to know what each change meant to the public (post.published vs
// post.updated, for webhooks) and where each background consumer of the change log stands.

export async function up (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE changes ADD COLUMN event text CHECK (event ~ '^(post|blog|author|tag)\.(created|published|updated|unpublished|deleted)$')`.execute(db)
  // Public consumers read only changes they can see; this keeps their scan on the index.
  await sql`CREATE INDEX changes_public_idx ON changes (seq) WHERE public_op IS NOT NULL`.execute(db)
  await sql`CREATE TABLE change_cursors (
    name text PRIMARY KEY,
    seq bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db)
  await sql`INSERT INTO change_cursors (name, seq) VALUES ('webhook-fanout', 0)`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE change_cursors`.execute(db)
  await sql`DROP INDEX changes_public_idx`.execute(db)
  await sql`ALTER TABLE changes DROP COLUMN event`.execute(db)
}
