import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// Every public post change purged every list of posts (each blog's, author's and tag's lists and
// feeds, at the edge and in each process's response cache), since the change row did not say
// whose lists the post was in. A post's change row now names its authors and tags as of the
// change (with left_author_ids/left_tag_ids, those it had before): a purge can then reach only
// the lists of its blog, authors and tags. Null on rows written before: whoever purges falls back
// to every list for those.
//
// A feed's Last-Modified counted the newest public post change anywhere (it must move even when
// the newest item is unpublished), so a blog's feed kept by a cache through a change elsewhere
// would have said another time than one computed anew. Each blog, author and tag now has the
// time its posts last changed as the public saw it, written with the change; until its next
// change, the newest public post change anywhere (never earlier than what a feed said before).

export async function up (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE changes ADD COLUMN author_ids uuid[], ADD COLUMN tag_ids uuid[]`.execute(db)
  await sql`
    CREATE TABLE post_list_changes (
      owner_type text NOT NULL CHECK (owner_type IN ('blog', 'author', 'tag')),
      owner_id uuid NOT NULL,
      changed_at timestamptz NOT NULL,
      PRIMARY KEY (owner_type, owner_id)
    )`.execute(db)
  await sql`
    WITH latest AS (
      SELECT occurred_at FROM changes WHERE entity_type = 'post' AND public_op IS NOT NULL ORDER BY seq DESC LIMIT 1)
    INSERT INTO post_list_changes (owner_type, owner_id, changed_at)
    SELECT owners.owner_type, owners.id, latest.occurred_at FROM latest, (
      SELECT 'blog' AS owner_type, id FROM blogs UNION ALL SELECT 'author', id FROM authors UNION ALL SELECT 'tag', id FROM tags) AS owners`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE post_list_changes`.execute(db)
  await sql`ALTER TABLE changes DROP COLUMN author_ids, DROP COLUMN tag_ids`.execute(db)
}
