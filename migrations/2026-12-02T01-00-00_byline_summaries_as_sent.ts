import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// A post's author and tag summaries are kept on its row for reads (post_byline_summaries), and
// pages of posts are now PostgreSQL's JSON text, sent as is. Stored as jsonb, each summary had
// to be taken apart and rebuilt on every read (jsonb orders keys its own way, id name slug, and
// its text has spaces): a third of the page query's time. They are now json text exactly as the
// API sends them, [{"id":...,"slug":...,"name":...}] in byline order, embedded as they are.
//
// New columns filled in batches, then swapped in: no table rewrite (a type change would copy
// every post's TOASTed bodies too), the same triggers keep them (their functions look the
// columns up by name when they run).

const BATCH = 5000

const SUMMARY_FUNCTIONS = {
  post_author_summaries: { links: 'post_authors', owner: 'author_id', table: 'authors' },
  post_tag_summaries: { links: 'post_tags', owner: 'tag_id', table: 'tags' }
} as const

async function defineSummaries (db: Kysely<any>, type: 'json' | 'jsonb'): Promise<void> {
  for (const [name, { links, owner, table }] of Object.entries(SUMMARY_FUNCTIONS)) {
    await sql.raw(`DROP FUNCTION ${name}(uuid)`).execute(db)
    const body = type === 'json'
      // row_to_json writes compact JSON with the columns in this order.
      ? `SELECT coalesce('[' || string_agg(row_to_json(s)::text, ',' ORDER BY l.position) || ']', '[]')::json
         FROM ${links} l JOIN ${table} o ON o.id = l.${owner} CROSS JOIN LATERAL (SELECT o.id, o.slug, o.name) AS s WHERE l.post_id = post`
      : `SELECT coalesce(jsonb_agg(jsonb_build_object('id', o.id, 'slug', o.slug, 'name', o.name) ORDER BY l.position), '[]'::jsonb)
         FROM ${links} l JOIN ${table} o ON o.id = l.${owner} WHERE l.post_id = post`
    await sql.raw(`CREATE FUNCTION ${name}(post uuid) RETURNS ${type} LANGUAGE sql STABLE AS $$ ${body} $$`).execute(db)
  }
}

/** Replaces both summary columns with ones of `type`, filled from the join tables in batches. */
async function swapColumns (db: Kysely<any>, type: 'json' | 'jsonb'): Promise<void> {
  await sql.raw(`ALTER TABLE posts ADD COLUMN author_summaries_next ${type} NOT NULL DEFAULT '[]', ADD COLUMN tag_summaries_next ${type} NOT NULL DEFAULT '[]'`).execute(db)
  await defineSummaries(db, type)
  let after = '00000000-0000-0000-0000-000000000000'
  for (;;) {
    const { rows } = await sql.raw<{ last: string | null, n: string }>(`WITH batch AS (
        SELECT id FROM posts WHERE id > '${after}' ORDER BY id LIMIT ${BATCH}
      ), updated AS (
        UPDATE posts SET author_summaries_next = post_author_summaries(id), tag_summaries_next = post_tag_summaries(id)
        WHERE id IN (SELECT id FROM batch) RETURNING id
      )
      SELECT max(id::text) AS last, count(*) AS n FROM batch`).execute(db)
    const last = rows[0]?.last
    if (last === null || last === undefined || Number(rows[0]?.n) < BATCH) break
    after = last
  }
  await sql`ALTER TABLE posts DROP COLUMN author_summaries, DROP COLUMN tag_summaries`.execute(db)
  await sql`ALTER TABLE posts RENAME COLUMN author_summaries_next TO author_summaries`.execute(db)
  await sql`ALTER TABLE posts RENAME COLUMN tag_summaries_next TO tag_summaries`.execute(db)
}

export async function up (db: Kysely<any>): Promise<void> {
  await swapColumns(db, 'json')
}

export async function down (db: Kysely<any>): Promise<void> {
  await swapColumns(db, 'jsonb')
}
