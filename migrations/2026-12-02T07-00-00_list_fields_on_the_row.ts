import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// The search vector keeps to the row (STORAGE MAIN, search_vector_inline). But PostgreSQL fits
// a row under toast_tuple_target by moving EXTENDED columns out of line, largest first, before
// it ever moves a MAIN one: a post whose vector alone nearly fills the page (a long article)
// had every other text column moved out of the row, down to its title and slug. A page of the
// newest posts then fetched each field of such a post from the TOAST table, through its index:
// a quarter of the posts at 1,000,000 (the benchmark's dataset), and more among the newest,
// the ones lists and feeds read; detoasting was a third of PostgreSQL's CPU for an uncached
// page (perf on the server process).
//
// The fields a post's summary is made of become MAIN too: they are compressed or moved out
// only after the vector has gone, and the vector (the largest) goes first. The bodies stay
// EXTENDED and leave the row first, as before. New and rewritten posts are stored so. Of the
// posts already there, the ones lists and feeds read most are written again with new values
// (an unchanged value keeps its place in the TOAST table): the newest published and every post
// scheduled for later (each becomes the newest in its turn), as search_vector_inline did, when
// their fields are out of line; older posts move their fields back when they are next written.
// The search trigger is off meanwhile (it would recompute the same vectors), which holds writes
// to posts until the migration commits: the bounded window keeps that short at any archive size
// (at 1,000,000 posts, rewriting every post took 12 minutes for 255,931 of them; every post of
// this window, 39,812 with the benchmark dataset's scheduled ones, 53 s).

const REWRITE_NEWEST = 20_000

const SUMMARY_FIELDS = [
  'slug', 'title', 'subtitle', 'excerpt', 'lead_image_url', 'lead_image_alt', 'lead_image_caption', 'lead_image_credit',
  'language', 'status', 'meta_title', 'meta_description', 'canonical_url', 'og_title', 'og_description', 'og_image_url',
  'twitter_title', 'twitter_description', 'twitter_image_url', 'author_summaries', 'tag_summaries'
] as const

const JSON_FIELDS: ReadonlySet<string> = new Set(['author_summaries', 'tag_summaries'])

/** Out of line (or compressed): stored in no more bytes than its text; on the row as it is, it has a header byte more. */
const outOfRow = (field: string) => sql`pg_column_size(${sql.ref(field)}) <= octet_length(${sql.ref(field)}::text)`

export async function up (db: Kysely<any>): Promise<void> {
  for (const field of SUMMARY_FIELDS) await sql`ALTER TABLE posts ALTER COLUMN ${sql.ref(field)} SET STORAGE MAIN`.execute(db)
  const rewritten = SUMMARY_FIELDS.map((field) => JSON_FIELDS.has(field)
    ? sql`${sql.ref(field)} = ${sql.ref(field)}::text::json`
    : sql`${sql.ref(field)} = ${sql.ref(field)} || ''`)
  await sql`ALTER TABLE posts DISABLE TRIGGER posts_search_by_language`.execute(db)
  await sql`UPDATE posts SET ${sql.join(rewritten)}
    WHERE (id IN (SELECT id FROM posts WHERE published_at <= now() ORDER BY published_at DESC, id DESC LIMIT ${sql.lit(REWRITE_NEWEST)}) OR published_at > now())
      AND (${sql.join(['title', 'slug', 'excerpt', 'author_summaries'].map(outOfRow), sql` OR `)})`.execute(db)
  await sql`ALTER TABLE posts ENABLE TRIGGER posts_search_by_language`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  for (const field of SUMMARY_FIELDS) await sql`ALTER TABLE posts ALTER COLUMN ${sql.ref(field)} SET STORAGE EXTENDED`.execute(db)
}
