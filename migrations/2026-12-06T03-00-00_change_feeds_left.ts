import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// A byline corrected (another author named, a tag taken off) takes a public post out of the
// feeds of the authors and tags it had. The change row named only the post, and whoever follows
// the log reads the post's bylines as they are now, so the WebSub hub was never told of the feeds
// the post left. A public post's change row now names those authors and tags (null: none).

export async function up (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE changes ADD COLUMN left_author_ids uuid[], ADD COLUMN left_tag_ids uuid[]`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE changes DROP COLUMN left_author_ids, DROP COLUMN left_tag_ids`.execute(db)
}
