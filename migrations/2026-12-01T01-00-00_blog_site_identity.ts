import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// A blog is read on a website: where that site lives and how its post addresses are built, so
// feeds and `url` fields send readers to the article page instead of the API's JSON. Both are
// optional; the network's settings (WEBSITE_URL, POST_URL_TEMPLATE) apply where they are null.
// Adding nullable columns without defaults is a catalog change only: no table rewrite.

export async function up (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE blogs ADD COLUMN website_url text, ADD COLUMN post_url_template text`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE blogs DROP COLUMN website_url, DROP COLUMN post_url_template`.execute(db)
}
