import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// A sitemap index lists every (blog, month) with indexable public posts, how many (for the pages
// of 50,000) and when the page last changed. Grouping every such post on each request read the
// whole of posts_sitemap_idx: 657-845 ms at 1,000,000 posts, again after every publish (which
// purges the cached index). Past months only change when a post in them is written, so a table
// of them is kept by statement triggers (one upsert per statement, in key order, so concurrent
// writers take the rows' locks in the same order and never lose an increment): +1 for each
// indexable public post that arrives in a month, -1 for each that leaves. (No CHECK (posts >= 0):
// PostgreSQL checks an upsert's proposed row, the -1, before it finds the conflict.) Whether a post is
// *visible* also depends on the clock (a scheduled post appears at its time without a write),
// but every post of a month before the current one has its time behind it: for those months the
// table is exact, and readers group the current month and later live, from the index.
// lastmod: the newest updated_at among the month's posts, or when a post left the month (the
// page changed then; a grouping of what is left would move lastmod back and crawlers would miss
// the removal).

const INDEXABLE = (row: string) => `(${row}.status IN ('published', 'scheduled') AND ${row}.deleted_at IS NULL AND NOT ${row}.noindex AND ${row}.published_at IS NOT NULL)`
const MONTH = (row: string) => `date_trunc('month', ${row}.published_at AT TIME ZONE 'UTC')::date`
// An updated post o -> n that was and stays on the same sitemap page.
const SAME_PAGE = `(${INDEXABLE('o')} AND ${INDEXABLE('n')} AND n.blog_id = o.blog_id AND ${MONTH('n')} = ${MONTH('o')})`

export async function up (db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE sitemap_months (
    blog_id uuid NOT NULL REFERENCES blogs (id) ON DELETE CASCADE,
    month date NOT NULL,
    posts integer NOT NULL,
    lastmod timestamptz NOT NULL,
    PRIMARY KEY (blog_id, month)
  )`.execute(db)

  // One function for the three statements; each branch reads only the transition tables its
  // trigger has. A post that stays in its month counts -1 and +1 there, moving lastmod to its
  // own updated_at, not to now; if its updated_at did not move either (the byline and tag
  // triggers rewrite thousands of rows' summaries at once) it is left out, so such a statement
  // takes no lock on the months.
  await sql.raw(`CREATE FUNCTION count_sitemap_months() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO sitemap_months AS s (blog_id, month, posts, lastmod)
          SELECT n.blog_id, ${MONTH('n')}, count(*), max(n.updated_at) FROM new_posts n WHERE ${INDEXABLE('n')}
          GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (blog_id, month) DO UPDATE SET posts = s.posts + EXCLUDED.posts, lastmod = greatest(s.lastmod, EXCLUDED.lastmod);
      ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO sitemap_months AS s (blog_id, month, posts, lastmod)
          SELECT o.blog_id, ${MONTH('o')}, -count(*), now() FROM old_posts o WHERE ${INDEXABLE('o')}
          GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (blog_id, month) DO UPDATE SET posts = s.posts + EXCLUDED.posts, lastmod = greatest(s.lastmod, EXCLUDED.lastmod);
      ELSE
        INSERT INTO sitemap_months AS s (blog_id, month, posts, lastmod)
          SELECT blog_id, month, sum(delta), max(lastmod) FROM (
            SELECT n.blog_id, ${MONTH('n')} AS month, 1 AS delta, n.updated_at AS lastmod
            FROM new_posts n LEFT JOIN old_posts o ON o.id = n.id
            WHERE ${INDEXABLE('n')} AND NOT (o.id IS NOT NULL AND ${SAME_PAGE} AND o.updated_at >= n.updated_at)
            UNION ALL
            SELECT o.blog_id, ${MONTH('o')}, -1, CASE WHEN n.id IS NOT NULL AND ${SAME_PAGE} THEN '-infinity'::timestamptz ELSE now() END
            FROM old_posts o LEFT JOIN new_posts n ON n.id = o.id
            WHERE ${INDEXABLE('o')} AND NOT (n.id IS NOT NULL AND ${SAME_PAGE} AND o.updated_at >= n.updated_at)
          ) AS moved
          GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (blog_id, month) DO UPDATE SET posts = s.posts + EXCLUDED.posts, lastmod = greatest(s.lastmod, EXCLUDED.lastmod);
      END IF;
      RETURN NULL;
    END $$`).execute(db)
  await sql`CREATE TRIGGER posts_sitemap_months_insert AFTER INSERT ON posts REFERENCING NEW TABLE AS new_posts
    FOR EACH STATEMENT EXECUTE FUNCTION count_sitemap_months()`.execute(db)
  await sql`CREATE TRIGGER posts_sitemap_months_update AFTER UPDATE ON posts REFERENCING OLD TABLE AS old_posts NEW TABLE AS new_posts
    FOR EACH STATEMENT EXECUTE FUNCTION count_sitemap_months()`.execute(db)
  await sql`CREATE TRIGGER posts_sitemap_months_delete AFTER DELETE ON posts REFERENCING OLD TABLE AS old_posts
    FOR EACH STATEMENT EXECUTE FUNCTION count_sitemap_months()`.execute(db)

  // Counted afresh: for the posts there now, and by whoever loads posts with triggers off (the
  // benchmark's loader) or empties the table.
  await sql.raw(`CREATE FUNCTION recount_sitemap_months() RETURNS void LANGUAGE sql AS $$
    DELETE FROM sitemap_months;
    INSERT INTO sitemap_months (blog_id, month, posts, lastmod)
      SELECT p.blog_id, ${MONTH('p')}, count(*), max(p.updated_at) FROM posts p WHERE ${INDEXABLE('p')} GROUP BY 1, 2;
  $$`).execute(db)
  await sql`CREATE FUNCTION recount_sitemap_months_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM recount_sitemap_months(); RETURN NULL; END $$`.execute(db)
  await sql`CREATE TRIGGER posts_sitemap_months_truncate AFTER TRUNCATE ON posts
    FOR EACH STATEMENT EXECUTE FUNCTION recount_sitemap_months_trigger()`.execute(db)
  await sql`SELECT recount_sitemap_months()`.execute(db)
  await sql`ANALYZE sitemap_months`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  for (const op of ['insert', 'update', 'delete', 'truncate']) await sql.raw(`DROP TRIGGER posts_sitemap_months_${op} ON posts`).execute(db)
  await sql`DROP FUNCTION recount_sitemap_months_trigger()`.execute(db)
  await sql`DROP FUNCTION recount_sitemap_months()`.execute(db)
  await sql`DROP FUNCTION count_sitemap_months()`.execute(db)
  await sql`DROP TABLE sitemap_months`.execute(db)
}
