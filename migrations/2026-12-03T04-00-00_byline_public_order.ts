import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// An author's or tag's public posts were walked on the join table's index of every byline in
// list order, and each row joined to its post to test whether anyone may see it: the top of that
// order is every draft (no publish time sorts first, descending) and every post scheduled for
// later, read and thrown away on every first page. At 1,000,000 posts the most prolific author's
// first page read 67 bylines and 67 posts for 20 (24 drafts, 21 scheduled, one deleted). The
// index of public rows now has the list's order, so a public page is one range of it that
// starts at now: 21 bylines, 21 posts. It still answers the counts and latest publish times it
// was made for (byline_public_state), so it replaces that one.

const LINKS = [['post_authors', 'author_id'], ['post_tags', 'tag_id']] as const

export async function up (db: Kysely<any>): Promise<void> {
  for (const [links, owner] of LINKS) {
    await sql.raw(`CREATE INDEX ${links}_public_latest_idx ON ${links} (${owner}, published_at DESC, post_id DESC) WHERE is_public`).execute(db)
    await sql.raw(`DROP INDEX ${links}_public_idx`).execute(db)
  }
}

export async function down (db: Kysely<any>): Promise<void> {
  for (const [links, owner] of LINKS) {
    await sql.raw(`CREATE INDEX ${links}_public_idx ON ${links} (${owner}, published_at) WHERE is_public`).execute(db)
    await sql.raw(`DROP INDEX ${links}_public_latest_idx`).execute(db)
  }
}
