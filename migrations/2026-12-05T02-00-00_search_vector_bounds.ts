import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// Two ways a long body made a post's search vector fail, both found by writing the longest
// bodies the API accepts (500,000 characters) in other scripts:
// - cjk_bigrams cut a run of Chinese or Japanese into pieces with substr(run, i, 2), and finding
//   the i-th character of a UTF-8 string means walking to it: quadratic. A run of 80,000
//   characters took 17 s, one of 300,000 some four minutes, inside the write's transaction. The
//   run is now split into its characters once (string_to_array) and each is paired with the
//   next (lead): the same text out, in linear time (a run of 500,000 characters: 0.4 s).
// - PostgreSQL's tsvector holds at most 1 MB (lexemes and positions). Two-character pieces of a
//   long Chinese text, or tens of thousands of distinct words, are more than that, and the
//   write failed with "string is too long for tsvector". The post is now written whatever its
//   length, and as much of its body is indexed as fits: the title, subtitle and excerpt always,
//   the body cut to the share the error says fits (halved when the message does not say).
// The pieces are the same as before, so no stored vector changes.

const RUN_CHARACTERS = '\\u3040-\\u30ff\\u31f0-\\u31ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\uff66-\\uff9f\\U00020000-\\U0003134f'

export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw(`CREATE OR REPLACE FUNCTION cjk_bigrams(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN t IS NULL OR t !~ '[${RUN_CHARACTERS}]' THEN t ELSE (
      SELECT string_agg(CASE WHEN m[1] ~ '^[${RUN_CHARACTERS}]' AND length(m[1]) > 1
        THEN ' ' || (SELECT string_agg(c || next, ' ' ORDER BY i) FROM (
            SELECT c, i, lead(c) OVER (ORDER BY i) AS next FROM unnest(string_to_array(m[1], NULL)) WITH ORDINALITY AS characters(c, i)) AS pairs
          WHERE next IS NOT NULL) || ' '
        ELSE m[1] END, '' ORDER BY n)
      FROM regexp_matches(t, '[${RUN_CHARACTERS}]+|[^${RUN_CHARACTERS}]+', 'g') WITH ORDINALITY AS runs(m, n)) END $$`).execute(db)
  // program_limit_exceeded is what to_tsvector and tsvector || raise past 1 MB; the block's
  // subtransaction writes nothing, so it takes no transaction id.
  await sql`CREATE OR REPLACE FUNCTION posts_search_by_language() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      body text := NEW.body_text;
      needed bigint;
    BEGIN
      LOOP
        BEGIN
          NEW.search := post_search_vector(NEW.language, NEW.title, NEW.subtitle, NEW.excerpt, body);
          RETURN NEW;
        EXCEPTION WHEN program_limit_exceeded THEN
          IF coalesce(length(body), 0) = 0 THEN RAISE; END IF;
          needed := substring(SQLERRM FROM '\\((\\d+) bytes')::bigint;
          body := left(body, CASE WHEN needed > 1048575 THEN (length(body) * (1048575.0 / needed) * 0.95)::int ELSE length(body) / 2 END);
        END;
      END LOOP;
    END $$`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`CREATE OR REPLACE FUNCTION posts_search_by_language() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.search := post_search_vector(NEW.language, NEW.title, NEW.subtitle, NEW.excerpt, NEW.body_text);
      RETURN NEW;
    END $$`.execute(db)
  await sql.raw(`CREATE OR REPLACE FUNCTION cjk_bigrams(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN t IS NULL OR t !~ '[${RUN_CHARACTERS}]' THEN t ELSE (
      SELECT string_agg(CASE WHEN m[1] ~ '^[${RUN_CHARACTERS}]' AND length(m[1]) > 1
        THEN ' ' || (SELECT string_agg(substr(m[1], i, 2), ' ' ORDER BY i) FROM generate_series(1, length(m[1]) - 1) AS i) || ' '
        ELSE m[1] END, '' ORDER BY n)
      FROM regexp_matches(t, '[${RUN_CHARACTERS}]+|[^${RUN_CHARACTERS}]+', 'g') WITH ORDINALITY AS runs(m, n)) END $$`).execute(db)
}
