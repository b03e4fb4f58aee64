import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// Since cjk_bigrams, search_nfkc and southeast_asian_pieces, a post's search vector cost
// PostgreSQL 0.96 ms for a 5 KB English post, 2.6 times what to_tsvector of its body takes
// (0.37 ms), and loading the benchmark's posts, triggers on, took 1.6 times as long as it does
// now (50,000 posts: 35 s against 22 s). Two causes:
// - The vector was built inside the block that catches a vector over 1 MB, and each entry to
//   such a block starts a subtransaction, whose end throws away the state of the expressions
//   evaluated in it: post_search_config and cjk_bigrams, SQL functions that cannot be inlined,
//   were planned again for every post (some 0.28 ms of the 0.96). The block now holds only
//   to_tsvector, setweight and ||; the configuration and the texts are made before it.
//   cjk_bigrams is PL/pgSQL, whose plans a session keeps across transactions, so a single
//   post's write does not plan it either.
// - normalize(text, NFKC) walks every character (0.2 ms for 5 KB); ASCII is its own NFKC, and a
//   text whose every character is one byte (octet_length = length, in UTF-8) is ASCII, a check
//   that costs next to nothing. Other text is normalized as before. (IS NFKC NORMALIZED would
//   skip more, but for Tamil, Bengali and others of the Indic scripts its quick check answers
//   "maybe" and it normalizes the whole text to find out: twice the work for them.)
// An update that leaves the language and the four texts as they were keeps the vector it has
// (an editor's tool saving a post whole, the body unchanged). Every vector is the same as
// before (test/content/posts/search-vector-cost.test.ts compares them); none is rebuilt here.

const RUN_CHARACTERS = '\\u0e00-\\u0eff\\u1000-\\u109f\\u1780-\\u17ff\\u19e0-\\u19ff\\u3040-\\u30ff\\u31f0-\\u31ff\\u3400-\\u4dbf\\u4e00-\\u9fff' +
  '\\ua9e0-\\ua9ff\\uaa60-\\uaa7f\\uf900-\\ufaff\\uff66-\\uff9f\\U00020000-\\U0003134f'

/** The runs of `t` cut into overlapping two-character pieces (the query the SQL function ran, unchanged). */
const PIECES_QUERY = `SELECT string_agg(CASE WHEN m[1] ~ '^[${RUN_CHARACTERS}]' AND length(m[1]) > 1
        THEN ' ' || (SELECT string_agg(c || next, ' ' ORDER BY i) FROM (
            SELECT c, i, lead(c) OVER (ORDER BY i) AS next FROM unnest(string_to_array(m[1], NULL)) WITH ORDINALITY AS characters(c, i)) AS pairs
          WHERE next IS NOT NULL) || ' '
        ELSE m[1] END, '' ORDER BY n)
      FROM regexp_matches(t, '[${RUN_CHARACTERS}]+|[^${RUN_CHARACTERS}]+', 'g') WITH ORDINALITY AS runs(m, n)`

const OVERSIZE_HANDLER = `EXCEPTION WHEN program_limit_exceeded THEN
          IF coalesce(length(body), 0) = 0 THEN RAISE; END IF;
          needed := substring(SQLERRM FROM '\\((\\d+) bytes')::bigint;
          body := left(body, CASE WHEN needed > 1048575 THEN (length(body) * (1048575.0 / needed) * 0.95)::int ELSE length(body) / 2 END);`

/** `text` (never NULL) in NFKC, without reading it character by character when it is ASCII. */
const nfkc = (text: string) => `CASE WHEN octet_length(${text}) = length(${text}) THEN ${text} ELSE normalize(${text}, NFKC) END`

export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw(`CREATE OR REPLACE FUNCTION cjk_bigrams(t text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    BEGIN
      IF t IS NULL OR t !~ '[${RUN_CHARACTERS}]' THEN RETURN t; END IF;
      RETURN (${PIECES_QUERY});
    END $$`).execute(db)
  await sql.raw(`CREATE OR REPLACE FUNCTION post_search_vector_within_limit(language text, title text, subtitle text, excerpt text, body_text text) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE
      config regconfig := post_search_config(language);
      heading text := coalesce(title, '');
      subtitle_text text := coalesce(subtitle, '');
      excerpt_text text := coalesce(excerpt, '');
      standfirst text;
      body text := body_text;
      pieces text;
      needed bigint;
    BEGIN
      heading := cjk_bigrams(${nfkc('heading')});
      standfirst := cjk_bigrams(${nfkc('subtitle_text')} || ' ' || ${nfkc('excerpt_text')});
      LOOP
        pieces := coalesce(body, '');
        pieces := cjk_bigrams(${nfkc('pieces')});
        BEGIN
          RETURN setweight(to_tsvector(config, heading), 'A') || setweight(to_tsvector(config, standfirst), 'B') ||
                 setweight(to_tsvector(config, pieces), 'C');
        ${OVERSIZE_HANDLER}
        END;
      END LOOP;
    END $$`).execute(db)
  await sql`CREATE OR REPLACE FUNCTION posts_search_by_language() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- The vector is made from these five columns alone.
      IF TG_OP = 'UPDATE' AND NEW.language IS NOT DISTINCT FROM OLD.language AND NEW.title IS NOT DISTINCT FROM OLD.title
        AND NEW.subtitle IS NOT DISTINCT FROM OLD.subtitle AND NEW.excerpt IS NOT DISTINCT FROM OLD.excerpt
        AND NEW.body_text IS NOT DISTINCT FROM OLD.body_text THEN
        RETURN NEW;
      END IF;
      NEW.search := post_search_vector_within_limit(NEW.language, NEW.title, NEW.subtitle, NEW.excerpt, NEW.body_text);
      RETURN NEW;
    END $$`.execute(db)
  await sql`DROP FUNCTION post_search_vector(text, text, text, text, text)`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  const nfkcAlways = (column: string) => `normalize(coalesce(${column}, ''), NFKC)`
  await sql.raw(`CREATE FUNCTION post_search_vector(language text, title text, subtitle text, excerpt text, body_text text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT setweight(to_tsvector(post_search_config(language), cjk_bigrams(${nfkcAlways('title')})), 'A') ||
                 setweight(to_tsvector(post_search_config(language), cjk_bigrams(${nfkcAlways('subtitle')} || ' ' || ${nfkcAlways('excerpt')})), 'B') ||
                 setweight(to_tsvector(post_search_config(language), cjk_bigrams(${nfkcAlways('body_text')})), 'C') $$`).execute(db)
  await sql.raw(`CREATE OR REPLACE FUNCTION post_search_vector_within_limit(language text, title text, subtitle text, excerpt text, body_text text) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE
      body text := body_text;
      needed bigint;
    BEGIN
      LOOP
        BEGIN
          RETURN post_search_vector(language, title, subtitle, excerpt, body);
        ${OVERSIZE_HANDLER}
        END;
      END LOOP;
    END $$`).execute(db)
  await sql`CREATE OR REPLACE FUNCTION posts_search_by_language() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.search := post_search_vector_within_limit(NEW.language, NEW.title, NEW.subtitle, NEW.excerpt, NEW.body_text);
      RETURN NEW;
    END $$`.execute(db)
  await sql.raw(`CREATE OR REPLACE FUNCTION cjk_bigrams(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN t IS NULL OR t !~ '[${RUN_CHARACTERS}]' THEN t ELSE (
      ${PIECES_QUERY}) END $$`).execute(db)
}
