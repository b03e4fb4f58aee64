import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// Chinese and Japanese are written without spaces between words, and PostgreSQL's parser took a
// run of such characters up to the next punctuation as one word: q=北京 found no post that says
// 今天在北京会见了, only the whole run did. Each run is now indexed as its overlapping two-character
// pieces (北京会见 -> 北京 京会 会见), as Lucene's CJK analyzer does, and a query's runs are cut the
// same way (src/content/posts/search-text.ts), so a word of two characters or more is found
// anywhere in a run. A run of one character stays as it is. Hangul, written with spaces, is not
// cut. Text with none of these characters goes through unchanged, so other posts' vectors do not
// change; the posts that have some are indexed again here.

const RUN_CHARACTERS = '\\u3040-\\u30ff\\u31f0-\\u31ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\uff66-\\uff9f\\U00020000-\\U0003134f'

export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw(`CREATE FUNCTION cjk_bigrams(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN t IS NULL OR t !~ '[${RUN_CHARACTERS}]' THEN t ELSE (
      SELECT string_agg(CASE WHEN m[1] ~ '^[${RUN_CHARACTERS}]' AND length(m[1]) > 1
        THEN ' ' || (SELECT string_agg(substr(m[1], i, 2), ' ' ORDER BY i) FROM generate_series(1, length(m[1]) - 1) AS i) || ' '
        ELSE m[1] END, '' ORDER BY n)
      FROM regexp_matches(t, '[${RUN_CHARACTERS}]+|[^${RUN_CHARACTERS}]+', 'g') WITH ORDINALITY AS runs(m, n)) END $$`).execute(db)
  await sql`CREATE OR REPLACE FUNCTION post_search_vector(language text, title text, subtitle text, excerpt text, body_text text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT setweight(to_tsvector(post_search_config(language), cjk_bigrams(coalesce(title, ''))), 'A') ||
                 setweight(to_tsvector(post_search_config(language), cjk_bigrams(coalesce(subtitle, '') || ' ' || coalesce(excerpt, ''))), 'B') ||
                 setweight(to_tsvector(post_search_config(language), cjk_bigrams(coalesce(body_text, ''))), 'C') $$`.execute(db)
  await sql.raw(`UPDATE posts SET search = post_search_vector(language, title, subtitle, excerpt, body_text)
    WHERE concat_ws(' ', title, subtitle, excerpt, body_text) ~ '[${RUN_CHARACTERS}]'`).execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`CREATE OR REPLACE FUNCTION post_search_vector(language text, title text, subtitle text, excerpt text, body_text text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT setweight(to_tsvector(post_search_config(language), coalesce(title, '')), 'A') ||
                 setweight(to_tsvector(post_search_config(language), coalesce(subtitle, '') || ' ' || coalesce(excerpt, '')), 'B') ||
                 setweight(to_tsvector(post_search_config(language), coalesce(body_text, '')), 'C') $$`.execute(db)
  await sql.raw(`UPDATE posts SET search = post_search_vector(language, title, subtitle, excerpt, body_text)
    WHERE concat_ws(' ', title, subtitle, excerpt, body_text) ~ '[${RUN_CHARACTERS}]'`).execute(db)
  await sql`DROP FUNCTION cjk_bigrams(text)`.execute(db)
}
