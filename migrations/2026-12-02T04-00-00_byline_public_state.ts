import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// How many public posts an author or tag has (Ghost's count.posts, /v1's post_count) joined each
// of the owner's rows to its post to test who may see it: some 20-40 µs a row, 0.6 s for a page
// of 100 authors and 1.0-2.6 s for 100 tags at 1,000,000 posts, for any request that asks. The
// join tables already carry each post's publish time (copied by triggers); they now also carry
// whether its status is public and it is not deleted (`is_public`), kept by the same triggers,
// and a partial index of the public rows by owner and publish time answers such a count from
// the index alone. The publish time is still tested when read, so a scheduled post appears in
// the counts at its time by itself, as everywhere else.

const PUBLIC_STATE = (row: string) => `(${row}.status IN ('published', 'scheduled') AND ${row}.deleted_at IS NULL)`
const LINKS = [['post_authors', 'author_id'], ['post_tags', 'tag_id']] as const
const BATCH = 5000

export async function up (db: Kysely<any>): Promise<void> {
  for (const [links] of LINKS) {
    // A constant default: no table rewrite; the backfill below sets the public rows.
    await sql.raw(`ALTER TABLE ${links} ADD COLUMN is_public boolean NOT NULL DEFAULT false`).execute(db)
  }
  await sql.raw(`CREATE OR REPLACE FUNCTION copy_post_published_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      SELECT p.published_at, ${PUBLIC_STATE('p')} INTO NEW.published_at, NEW.is_public FROM posts p WHERE p.id = NEW.post_id;
      RETURN NEW;
    END $$`).execute(db)
  await sql.raw(`CREATE OR REPLACE FUNCTION propagate_post_published_at() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      visible boolean := ${PUBLIC_STATE('NEW')};
    BEGIN
      UPDATE post_authors SET published_at = NEW.published_at, is_public = visible
        WHERE post_id = NEW.id AND (published_at IS DISTINCT FROM NEW.published_at OR is_public <> visible);
      UPDATE post_tags SET published_at = NEW.published_at, is_public = visible
        WHERE post_id = NEW.id AND (published_at IS DISTINCT FROM NEW.published_at OR is_public <> visible);
      RETURN NULL;
    END $$`).execute(db)
  await sql`DROP TRIGGER posts_published_at_propagates ON posts`.execute(db)
  await sql.raw(`CREATE TRIGGER posts_published_at_propagates AFTER UPDATE OF published_at, status, deleted_at ON posts
    FOR EACH ROW WHEN (OLD.published_at IS DISTINCT FROM NEW.published_at OR ${PUBLIC_STATE('OLD')} <> ${PUBLIC_STATE('NEW')})
    EXECUTE FUNCTION propagate_post_published_at()`).execute(db)

  // Existing rows, a batch of posts at a time (each statement's transition tables stay small for
  // the byline summaries' trigger on these tables).
  for (const [links] of LINKS) {
    let after = '00000000-0000-0000-0000-000000000000'
    for (;;) {
      const { rows } = await sql.raw<{ last: string | null, n: string }>(`WITH batch AS (
          SELECT id FROM posts p WHERE id > '${after}' ORDER BY id LIMIT ${BATCH}
        ), updated AS (
          UPDATE ${links} j SET is_public = true FROM posts p
          WHERE p.id = j.post_id AND j.post_id IN (SELECT id FROM batch) AND ${PUBLIC_STATE('p')}
          RETURNING 1
        )
        SELECT max(id::text) AS last, count(*) AS n FROM batch`).execute(db)
      const last = rows[0]?.last
      if (last === null || last === undefined) break
      after = last
      if (Number(rows[0]?.n) < BATCH) break
    }
  }
  for (const [links, owner] of LINKS) {
    await sql.raw(`CREATE INDEX ${links}_public_idx ON ${links} (${owner}, published_at) WHERE is_public`).execute(db)
    await sql.raw(`ANALYZE ${links}`).execute(db)
  }
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER posts_published_at_propagates ON posts`.execute(db)
  await sql`CREATE TRIGGER posts_published_at_propagates AFTER UPDATE OF published_at ON posts
    FOR EACH ROW WHEN (OLD.published_at IS DISTINCT FROM NEW.published_at)
    EXECUTE FUNCTION propagate_post_published_at()`.execute(db)
  await sql`CREATE OR REPLACE FUNCTION propagate_post_published_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE post_authors SET published_at = NEW.published_at WHERE post_id = NEW.id;
      UPDATE post_tags SET published_at = NEW.published_at WHERE post_id = NEW.id;
      RETURN NULL;
    END $$`.execute(db)
  await sql`CREATE OR REPLACE FUNCTION copy_post_published_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      SELECT published_at INTO NEW.published_at FROM posts WHERE id = NEW.post_id;
      RETURN NEW;
    END $$`.execute(db)
  for (const [links] of LINKS) await sql.raw(`ALTER TABLE ${links} DROP COLUMN is_public`).execute(db)
}
