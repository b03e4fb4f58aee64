import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// The network's feeds (latest, breaking, and any feed filtered by neither blog, author nor tag)
// took their Last-Modified from the newest change row's occurred_at: the time its transaction
// began. A transaction that began before another committed can append after it, so that time
// could go back past what readers of the other's feed were told, and a reader asking
// If-Modified-Since would be kept on a copy without the later post. The network gets a row in
// post_list_changes, moved at each public post change's append as owners' rows are; until the
// next change, the newest public post change's time (what the feeds said before).

const NETWORK_ID = '00000000-0000-0000-0000-000000000000'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE post_list_changes DROP CONSTRAINT post_list_changes_owner_type_check`.execute(db)
  await sql`ALTER TABLE post_list_changes ADD CONSTRAINT post_list_changes_owner_type_check CHECK (owner_type IN ('blog', 'author', 'tag', 'network'))`.execute(db)
  await sql`
    INSERT INTO post_list_changes (owner_type, owner_id, changed_at)
    SELECT 'network', ${sql.lit(NETWORK_ID)}::uuid, occurred_at FROM changes
    WHERE entity_type = 'post' AND public_op IS NOT NULL ORDER BY seq DESC LIMIT 1`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM post_list_changes WHERE owner_type = 'network'`.execute(db)
  await sql`ALTER TABLE post_list_changes DROP CONSTRAINT post_list_changes_owner_type_check`.execute(db)
  await sql`ALTER TABLE post_list_changes ADD CONSTRAINT post_list_changes_owner_type_check CHECK (owner_type IN ('blog', 'author', 'tag'))`.execute(db)
}
