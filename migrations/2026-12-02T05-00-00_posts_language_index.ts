import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// A list in one language (`language=`, a language service's front page, its feed) walked the
// newest-first index of every public post and skipped the other languages' posts: for a language
// few posts are in, most of the archive per page, and for one no post is in, all of it (1.9-3.6 s
// at 1,000,000 posts, for any language code anyone sends). One more partial index, in the lists'
// own order within each language, makes such a list one index range like a blog's.

export async function up (db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX posts_public_language_latest_idx ON posts (language, published_at DESC, id DESC)
    WHERE status IN ('published', 'scheduled') AND deleted_at IS NULL`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX posts_public_language_latest_idx`.execute(db)
}
