import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// The runs of each post's JSON (post_json_on_the_row) move off the post's row into a table of
// their own, one row a post. On the row they were EXTENDED, so they left it whenever it
// outgrew a page: PostgreSQL moves EXTENDED columns out of line before MAIN ones (the search
// vector and the list fields, list_fields_on_the_row), and an article of ordinary length (a
// vector of 5-6 KB) nearly fills a page with those alone, leaving the runs no room. At 1,000,000 posts (the
// benchmark's dataset) every post of the newest page had its three runs in the TOAST table: 63
// fetches through the TOAST index a page, 107 of its 163 buffers (140 with the runs read by one
// primary-key lookup a post from a table of their own, 84 of them the lookups). The newest
// page's query, 5,000 times in a server-side loop, six alternated pairs: 0.209-0.245 ms a page
// with the runs out of line on the row, 0.194-0.219 from their own table. Kept apart, they are
// never pushed out by the vector.
//
// A trigger keeps them as before, now after each insert and update of a post (an upsert that
// writes nothing when they are unchanged). The posts lists read most get theirs here, copied
// from their rows: the newest 20,000 published and every one scheduled for later (the window
// of the migrations before, found through the index of public posts rather than by reading the
// whole table; writes to posts wait for it). The rest are given theirs by the
// background pass (json-runs-backfill.ts), which walks the posts in id order from where the
// single row of post_json_runs_backfill says, and deletes that row when it reaches the end.

const REWRITE_NEWEST = 20_000
const BEFORE_EVERY_ID = '00000000-0000-0000-0000-000000000000'
/** The posts lists show, as their index (posts_public_latest_idx) has them: the window is two ranges of it. */
const PUBLIC = sql`status IN ('published', 'scheduled') AND deleted_at IS NULL`

/** Each run's text from the post's row (NEW), as post_json_on_the_row's trigger wrote them. */
const RUN_TEXTS = {
  json_summary: `concat(
    ',"title":', coalesce(to_json(NEW.title)::text, 'null'),
    ',"subtitle":', coalesce(to_json(NEW.subtitle)::text, 'null'),
    ',"excerpt":', coalesce(to_json(NEW.excerpt)::text, 'null'),
    ',"word_count":', coalesce(to_json(NEW.word_count)::text, 'null'),
    ',"reading_time_minutes":', coalesce(to_json(CASE WHEN NEW.word_count = 0 THEN 0 ELSE greatest(1, round(NEW.word_count / 230::numeric))::integer END)::text, 'null'),
    ',"lead_image":', coalesce(CASE WHEN NEW.lead_image_url IS NOT NULL THEN concat(
      '{"url":', coalesce(to_json(NEW.lead_image_url)::text, 'null'),
      ',"alt":', coalesce(to_json(NEW.lead_image_alt)::text, 'null'),
      ',"caption":', coalesce(to_json(NEW.lead_image_caption)::text, 'null'),
      ',"credit":', coalesce(to_json(NEW.lead_image_credit)::text, 'null'),
      ',"width":', coalesce(to_json(NEW.lead_image_width)::text, 'null'),
      ',"height":', coalesce(to_json(NEW.lead_image_height)::text, 'null'), '}') END, 'null'),
    ',"language":', coalesce(to_json(NEW.language)::text, 'null'),
    ',"is_breaking":', coalesce(to_json(NEW.is_breaking)::text, 'null'),
    ',"is_featured":', coalesce(to_json(NEW.is_featured)::text, 'null'),
    ',"authors":', coalesce(NEW.author_summaries::text, 'null'),
    ',"tags":', coalesce(NEW.tag_summaries::text, 'null'))`,
  json_dates_seo: `concat(
    ',"published_at":', coalesce(to_json(to_char(NEW.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text, 'null'),
    ',"updated_at":', coalesce(to_json(to_char(NEW.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text, 'null'),
    ',"seo":{"meta_title":', coalesce(to_json(coalesce(NEW.meta_title, NEW.title))::text, 'null'),
    ',"meta_description":', coalesce(to_json(coalesce(NEW.meta_description, NEW.excerpt, NEW.subtitle, NEW.title))::text, 'null'))`,
  json_seo_rest: `concat(
    ',"og_title":', coalesce(to_json(coalesce(NEW.og_title, NEW.meta_title, NEW.title))::text, 'null'),
    ',"og_description":', coalesce(to_json(coalesce(NEW.og_description, NEW.meta_description, NEW.excerpt, NEW.subtitle, NEW.title))::text, 'null'),
    ',"og_image":', coalesce(to_json(coalesce(NEW.og_image_url, NEW.lead_image_url))::text, 'null'),
    ',"twitter_title":', coalesce(to_json(coalesce(NEW.twitter_title, NEW.og_title, NEW.meta_title, NEW.title))::text, 'null'),
    ',"twitter_description":', coalesce(to_json(coalesce(NEW.twitter_description, NEW.og_description, NEW.meta_description, NEW.excerpt, NEW.subtitle, NEW.title))::text, 'null'),
    ',"twitter_image":', coalesce(to_json(coalesce(NEW.twitter_image_url, NEW.og_image_url, NEW.lead_image_url))::text, 'null'),
    ',"robots":', CASE WHEN NEW.noindex THEN '"noindex, follow"' ELSE '"index, follow"' END, '}')`
} as const

export async function up (db: Kysely<any>): Promise<void> {
  // Rows of some 1-2 KB: the target keeps a long one whole on its row, as posts' is.
  await sql`CREATE TABLE post_json_runs (
    post_id uuid PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    json_summary text NOT NULL,
    json_dates_seo text NOT NULL,
    json_seo_rest text NOT NULL
  ) WITH (toast_tuple_target = 8160)`.execute(db)
  await sql`CREATE TABLE post_json_runs_backfill (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    after_id uuid NOT NULL
  )`.execute(db)
  // The trigger goes first: from here on writers to posts wait for this migration, so no post
  // can change between its runs being copied and the new trigger keeping them.
  await sql`DROP TRIGGER posts_json_runs ON posts`.execute(db)
  await sql`DROP FUNCTION posts_json_runs()`.execute(db)
  await sql`CREATE FUNCTION posts_json_runs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO post_json_runs AS r (post_id, json_summary, json_dates_seo, json_seo_rest)
  VALUES (NEW.id, ${sql.raw(RUN_TEXTS.json_summary)}, ${sql.raw(RUN_TEXTS.json_dates_seo)}, ${sql.raw(RUN_TEXTS.json_seo_rest)})
  ON CONFLICT (post_id) DO UPDATE SET json_summary = EXCLUDED.json_summary, json_dates_seo = EXCLUDED.json_dates_seo, json_seo_rest = EXCLUDED.json_seo_rest
    WHERE (r.json_summary, r.json_dates_seo, r.json_seo_rest) IS DISTINCT FROM (EXCLUDED.json_summary, EXCLUDED.json_dates_seo, EXCLUDED.json_seo_rest);
  RETURN NULL;
END
$$`.execute(db)
  await sql`CREATE TRIGGER posts_json_runs AFTER INSERT OR UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION posts_json_runs()`.execute(db)
  // Copied as texts (`|| ''`): as they are, the copies would keep the compression they had.
  await sql`INSERT INTO post_json_runs (post_id, json_summary, json_dates_seo, json_seo_rest)
    SELECT id, json_summary || '', json_dates_seo || '', json_seo_rest || '' FROM posts
    WHERE json_summary IS NOT NULL AND json_dates_seo IS NOT NULL AND json_seo_rest IS NOT NULL
      AND id IN ((SELECT id FROM posts WHERE ${PUBLIC} AND published_at <= now() ORDER BY published_at DESC, id DESC LIMIT ${sql.lit(REWRITE_NEWEST)})
        UNION ALL (SELECT id FROM posts WHERE ${PUBLIC} AND published_at > now()))`.execute(db)
  await sql`INSERT INTO post_json_runs_backfill (after_id) SELECT ${sql.lit(BEFORE_EVERY_ID)}::uuid
    WHERE EXISTS (SELECT 1 FROM posts p WHERE NOT EXISTS (SELECT 1 FROM post_json_runs r WHERE r.post_id = p.id))`.execute(db)
  await sql`DROP INDEX posts_without_json_runs`.execute(db)
  await sql`ALTER TABLE posts DROP COLUMN json_summary, DROP COLUMN json_dates_seo, DROP COLUMN json_seo_rest`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE posts ADD COLUMN json_summary text, ADD COLUMN json_dates_seo text, ADD COLUMN json_seo_rest text`.execute(db)
  await sql`CREATE INDEX posts_without_json_runs ON posts (id) WHERE json_summary IS NULL`.execute(db)
  await sql`DROP TRIGGER posts_json_runs ON posts`.execute(db)
  await sql`DROP FUNCTION posts_json_runs()`.execute(db)
  // The trigger as post_json_on_the_row wrote it.
  await sql`CREATE FUNCTION posts_json_runs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.json_summary := ${sql.raw(RUN_TEXTS.json_summary)};
  NEW.json_dates_seo := ${sql.raw(RUN_TEXTS.json_dates_seo)};
  NEW.json_seo_rest := ${sql.raw(RUN_TEXTS.json_seo_rest)};
  RETURN NEW;
END
$$`.execute(db)
  await sql`CREATE TRIGGER posts_json_runs BEFORE INSERT OR UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION posts_json_runs()`.execute(db)
  // Setting a run is enough: the trigger writes all three (the posts that had them in the table).
  await sql`UPDATE posts SET json_summary = NULL WHERE id IN (SELECT post_id FROM post_json_runs)`.execute(db)
  await sql`DROP TABLE post_json_runs_backfill`.execute(db)
  await sql`DROP TABLE post_json_runs`.execute(db)
}
