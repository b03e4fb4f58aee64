import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// One word has more than one spelling in Unicode: "café" as é, or as e and a combining accent
// (NFD: text from macOS, PDFs, some Vietnamese keyboards; Korean as separate jamo), "finance"
// with the ﬁ ligature, ＡＢＣ in full width, ﾆｭｰｽ in half-width katakana. Indexed as sent, a
// post written in one spelling was not found by a query in another (q=Café missed a title with
// a combining accent, and the other way round). The search vector is now built from the text
// in NFKC, as search engines normalize (Elasticsearch's ICU normalizer: NFKC with case
// folding), and queries are put in NFKC too (src/content/posts/search-text.ts). The stored
// text is left as the editor wrote it.
// The vector is built by one function, the size fallback of search_vector_bounds included, so
// the posts indexed again here cannot fail on a long body either.

const vectorOf = (normalized: boolean) => {
  const text = (column: string) => normalized ? `normalize(coalesce(${column}, ''), NFKC)` : `coalesce(${column}, '')`
  return `SELECT setweight(to_tsvector(post_search_config(language), cjk_bigrams(${text('title')})), 'A') ||
                 setweight(to_tsvector(post_search_config(language), cjk_bigrams(${text('subtitle')} || ' ' || ${text('excerpt')})), 'B') ||
                 setweight(to_tsvector(post_search_config(language), cjk_bigrams(${text('body_text')})), 'C')`
}

export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw(`CREATE OR REPLACE FUNCTION post_search_vector(language text, title text, subtitle text, excerpt text, body_text text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ ${vectorOf(true)} $$`).execute(db)
  // A tsvector holds at most 1 MB: past it, as much of the body as fits (search_vector_bounds).
  await sql`CREATE FUNCTION post_search_vector_within_limit(language text, title text, subtitle text, excerpt text, body_text text) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE
      body text := body_text;
      needed bigint;
    BEGIN
      LOOP
        BEGIN
          RETURN post_search_vector(language, title, subtitle, excerpt, body);
        EXCEPTION WHEN program_limit_exceeded THEN
          IF coalesce(length(body), 0) = 0 THEN RAISE; END IF;
          needed := substring(SQLERRM FROM '\\((\\d+) bytes')::bigint;
          body := left(body, CASE WHEN needed > 1048575 THEN (length(body) * (1048575.0 / needed) * 0.95)::int ELSE length(body) / 2 END);
        END;
      END LOOP;
    END $$`.execute(db)
  await sql`CREATE OR REPLACE FUNCTION posts_search_by_language() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.search := post_search_vector_within_limit(NEW.language, NEW.title, NEW.subtitle, NEW.excerpt, NEW.body_text);
      RETURN NEW;
    END $$`.execute(db)
  // Only posts with text that NFKC changes get a different vector.
  await sql`UPDATE posts SET search = post_search_vector_within_limit(language, title, subtitle, excerpt, body_text)
    WHERE NOT (concat_ws(' ', title, subtitle, excerpt, body_text) IS NFKC NORMALIZED)`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw(`CREATE OR REPLACE FUNCTION post_search_vector(language text, title text, subtitle text, excerpt text, body_text text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ ${vectorOf(false)} $$`).execute(db)
  await sql`UPDATE posts SET search = post_search_vector_within_limit(language, title, subtitle, excerpt, body_text)
    WHERE NOT (concat_ws(' ', title, subtitle, excerpt, body_text) IS NFKC NORMALIZED)`.execute(db)
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
  await sql`DROP FUNCTION post_search_vector_within_limit(text, text, text, text, text)`.execute(db)
}
