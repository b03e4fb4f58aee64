import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// A full-text list in list order tests each post's search vector as it walks (up to 5,000 posts
// a page). A vector is some 6 KB, so PostgreSQL kept it out of line, in the TOAST table: every
// test opened the TOAST table and its index and read the vector's chunks, some 30 µs a post
// against 4-5 µs for a vector on the row itself (EXPLAIN ANALYZE over 20,000 posts' vectors:
// 610 ms out of line, 107 ms on the row compressed with lz4, 240 ms with pglz).
//
// STORAGE MAIN keeps the vector on the row: the bodies (the larger columns) still go out of
// line first, and the vector leaves the row only when the row would not fit a page without it.
// The table's toast_tuple_target goes with it, from 2 KB to a page: PostgreSQL moves columns out
// of line, largest first, until the row is under that target, and a row holding a 5 KB vector
// is never under 2 KB, so every other text column (title, excerpt, bylines: what every list
// reads) went out of line too; a page of the newest posts then read 1,731 buffers, not 60.
// lz4, where the server has it (PostgreSQL builds usually do; the embedded one may not), since
// the walk decompresses each vector it tests. Posts keep their vectors as stored until they are
// written again, except the ones newest-first searches walk: the newest published and every
// post scheduled for later (each becomes the newest in its turn), rewritten here.
// The price: the posts table's rows are wider (one to a few a page), so a scan of the whole
// table reads more pages.

const REWRITE_NEWEST = 20_000
const BATCH = 5_000

export async function up (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE posts ALTER COLUMN search SET STORAGE MAIN`.execute(db)
  await sql`ALTER TABLE posts SET (toast_tuple_target = 8160)`.execute(db)
  await sql`DO $$ BEGIN
    ALTER TABLE posts ALTER COLUMN search SET COMPRESSION lz4;
  EXCEPTION WHEN feature_not_supported THEN NULL;
  END $$`.execute(db)
  // `|| ''` makes a new value (an unchanged one would keep its place in the TOAST table).
  for (let offset = 0; offset < REWRITE_NEWEST; offset += BATCH) {
    await sql`UPDATE posts SET search = search || ''::tsvector WHERE id IN (
      SELECT id FROM posts WHERE published_at <= now() ORDER BY published_at DESC, id DESC OFFSET ${sql.lit(offset)} LIMIT ${sql.lit(BATCH)})`.execute(db)
  }
  await sql`UPDATE posts SET search = search || ''::tsvector WHERE published_at > now()`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE posts RESET (toast_tuple_target)`.execute(db)
  await sql`ALTER TABLE posts ALTER COLUMN search SET STORAGE EXTENDED`.execute(db)
  await sql`ALTER TABLE posts ALTER COLUMN search SET COMPRESSION DEFAULT`.execute(db)
}
