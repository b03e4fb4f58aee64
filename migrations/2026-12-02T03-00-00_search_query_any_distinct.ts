import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// post_search_query_any(q) narrows a search in no particular language: the query parsed in
// every configuration, OR-ed. Most configurations parse most words alike, so the 29 branches
// were mostly copies (`liolio -fuel`: 24 of them `'liolio' & !'fuel'`), and a search walking
// posts in list order tested each post against all of them: 26 ms for 5,000 posts' vectors
// against 17 ms with the distinct branches only (EXPLAIN ANALYZE, warm, 1,000,000 posts). The
// same query, each distinct branch once. Still IMMUTABLE, so a plan for a given q folds it
// into a constant and the full-text index can use it.

const CONFIGS = [
  'arabic', 'armenian', 'basque', 'catalan', 'danish', 'dutch', 'english', 'finnish', 'french', 'german', 'greek', 'hindi', 'hungarian',
  'indonesian', 'irish', 'italian', 'lithuanian', 'nepali', 'norwegian', 'portuguese', 'romanian', 'russian', 'serbian', 'spanish',
  'swedish', 'tamil', 'turkish', 'yiddish', 'simple'
]

export async function up (db: Kysely<any>): Promise<void> {
  const parsed = CONFIGS.map((config) => `websearch_to_tsquery('${config}', q)`).join(', ')
  // tsquery's text form reads back as the same query (it is how a dump keeps one); a
  // configuration that keeps no word of q (stop words only) adds nothing, as before. When none
  // keeps any, 'simple' (among them) gives the empty query, as the OR of empty ones did.
  await sql.raw(`CREATE OR REPLACE FUNCTION post_search_query_any(q text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(
      (SELECT string_agg(DISTINCT '(' || branch::text || ')', ' | ') FROM unnest(ARRAY[${parsed}]) AS branch WHERE numnode(branch) > 0)::tsquery,
      websearch_to_tsquery('simple', q)) $$`).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  const anyConfig = CONFIGS.map((config) => `websearch_to_tsquery('${config}', q)`).join(' || ')
  await sql.raw(`CREATE OR REPLACE FUNCTION post_search_query_any(q text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ${anyConfig} $$`).execute(db)
}
