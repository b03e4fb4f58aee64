import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// Every post read showed its authors and tags as { id, slug, name } summaries built by two
// correlated subqueries per post (1.0 ms of a 1.6 ms list query). They are now kept on the post
// row, in the write's own transaction, by triggers, so no code path can forget them:
// - a change to a post's authors or tags (insert, delete, reorder; an author or tag deleted
//   cascades here too) refreshes those posts, once per statement (transition tables);
// - renaming an author or tag (slug or name) refreshes the posts that name it.
// Writes get dearer (a rename touches every post of that author or tag), reads one join cheaper.

const BATCH = 5000

export async function up (db: Kysely<any>): Promise<void> {
  // A constant default: no table rewrite; the backfill below fills existing rows in batches.
  await sql`ALTER TABLE posts ADD COLUMN author_summaries jsonb NOT NULL DEFAULT '[]', ADD COLUMN tag_summaries jsonb NOT NULL DEFAULT '[]'`.execute(db)

  await sql`CREATE FUNCTION post_author_summaries(post uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', a.id, 'slug', a.slug, 'name', a.name) ORDER BY pa.position), '[]'::jsonb)
    FROM post_authors pa JOIN authors a ON a.id = pa.author_id WHERE pa.post_id = post $$`.execute(db)
  await sql`CREATE FUNCTION post_tag_summaries(post uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'slug', t.slug, 'name', t.name) ORDER BY pt.position), '[]'::jsonb)
    FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = post $$`.execute(db)

  for (const [links, owner, column, summaries] of [['post_authors', 'author_id', 'author_summaries', 'post_author_summaries'], ['post_tags', 'tag_id', 'tag_summaries', 'post_tag_summaries']] as const) {
    // INSERT and DELETE see their rows as `changed_rows`. An UPDATE refreshes only the posts
    // whose (owner, position) pairs changed: a publish copies published_at into these tables,
    // and a trigger with transition tables cannot be limited to columns.
    await sql.raw(`CREATE FUNCTION ${links}_summaries_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE posts SET ${column} = ${summaries}(id) WHERE id IN (SELECT post_id FROM changed_rows);
        RETURN NULL;
      END $$`).execute(db)
    await sql.raw(`CREATE FUNCTION ${links}_summaries_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE posts SET ${column} = ${summaries}(id) WHERE id IN (SELECT post_id FROM (
          (SELECT post_id, ${owner}, position FROM old_rows EXCEPT SELECT post_id, ${owner}, position FROM new_rows)
          UNION
          (SELECT post_id, ${owner}, position FROM new_rows EXCEPT SELECT post_id, ${owner}, position FROM old_rows)
        ) AS moved);
        RETURN NULL;
      END $$`).execute(db)
    await sql.raw(`CREATE TRIGGER ${links}_summaries_inserted AFTER INSERT ON ${links}
      REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION ${links}_summaries_changed()`).execute(db)
    await sql.raw(`CREATE TRIGGER ${links}_summaries_deleted AFTER DELETE ON ${links}
      REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION ${links}_summaries_changed()`).execute(db)
    // Not on published_at, which a publish copies into the join tables.
    await sql.raw(`CREATE TRIGGER ${links}_summaries_updated AFTER UPDATE ON ${links}
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${links}_summaries_updated()`).execute(db)
  }
  for (const [table, links, owner, column, summaries] of [
    ['authors', 'post_authors', 'author_id', 'author_summaries', 'post_author_summaries'],
    ['tags', 'post_tags', 'tag_id', 'tag_summaries', 'post_tag_summaries']
  ] as const) {
    await sql.raw(`CREATE FUNCTION ${table}_summaries_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE posts SET ${column} = ${summaries}(id) WHERE id IN (SELECT post_id FROM ${links} WHERE ${owner} = NEW.id);
        RETURN NULL;
      END $$`).execute(db)
    await sql.raw(`CREATE TRIGGER ${table}_summaries_renamed AFTER UPDATE OF slug, name ON ${table}
      FOR EACH ROW WHEN (OLD.slug IS DISTINCT FROM NEW.slug OR OLD.name IS DISTINCT FROM NEW.name)
      EXECUTE FUNCTION ${table}_summaries_renamed()`).execute(db)
  }

  // Existing posts, in batches (posts with neither authors nor tags keep the default).
  for (const [links, column, summaries] of [['post_authors', 'author_summaries', 'post_author_summaries'], ['post_tags', 'tag_summaries', 'post_tag_summaries']] as const) {
    let after = '00000000-0000-0000-0000-000000000000'
    for (;;) {
      const { rows } = await sql.raw<{ last: string | null, n: string }>(`WITH batch AS (
          SELECT DISTINCT post_id FROM ${links} WHERE post_id > '${after}' ORDER BY post_id LIMIT ${BATCH}
        ), updated AS (
          UPDATE posts SET ${column} = ${summaries}(id) WHERE id IN (SELECT post_id FROM batch) RETURNING id
        )
        SELECT max(post_id::text) AS last, count(*) AS n FROM batch`).execute(db)
      const last = rows[0]?.last
      if (last === null || last === undefined) break
      after = last
      if (Number(rows[0]?.n) < BATCH) break
    }
  }
}

export async function down (db: Kysely<any>): Promise<void> {
  for (const table of ['authors', 'tags']) {
    await sql.raw(`DROP TRIGGER ${table}_summaries_renamed ON ${table}`).execute(db)
    await sql.raw(`DROP FUNCTION ${table}_summaries_renamed()`).execute(db)
  }
  for (const links of ['post_authors', 'post_tags']) {
    for (const suffix of ['inserted', 'deleted', 'updated']) await sql.raw(`DROP TRIGGER ${links}_summaries_${suffix} ON ${links}`).execute(db)
    await sql.raw(`DROP FUNCTION ${links}_summaries_changed()`).execute(db)
    await sql.raw(`DROP FUNCTION ${links}_summaries_updated()`).execute(db)
  }
  await sql`DROP FUNCTION post_author_summaries(uuid)`.execute(db)
  await sql`DROP FUNCTION post_tag_summaries(uuid)`.execute(db)
  await sql`ALTER TABLE posts DROP COLUMN author_summaries, DROP COLUMN tag_summaries`.execute(db)
}
