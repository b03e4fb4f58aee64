import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// Each post's search vector is built with the text-search configuration of its own language
// (PostgreSQL ships about thirty; `simple`, no stemming and no stop words, for the rest), not
// with English for every post. The generated column could not be changed in place (PostgreSQL 15
// has no SET EXPRESSION) and rebuilding it would rewrite the table under an exclusive lock, so:
// a new plain column kept by a trigger, filled in batches (readers are never blocked; writers
// wait on the rows being filled), indexed, then swapped in for the old one (a brief catalog lock).

const CONFIGS: Record<string, string> = {
  ar: 'arabic', hy: 'armenian', eu: 'basque', ca: 'catalan', da: 'danish', nl: 'dutch', en: 'english', fi: 'finnish',
  fr: 'french', de: 'german', el: 'greek', hi: 'hindi', hu: 'hungarian', id: 'indonesian', ga: 'irish', it: 'italian',
  lt: 'lithuanian', ne: 'nepali', no: 'norwegian', nb: 'norwegian', nn: 'norwegian', pt: 'portuguese', ro: 'romanian',
  ru: 'russian', sr: 'serbian', es: 'spanish', sv: 'swedish', ta: 'tamil', tr: 'turkish', yi: 'yiddish'
}

const BATCH = 5000

export async function up (db: Kysely<any>): Promise<void> {
  const cases = Object.entries(CONFIGS).map(([code, config]) => `WHEN '${code}' THEN '${config}'`).join(' ')
  // Immutable, so it may build a stored vector: the mapping is fixed here, and the
  // configurations it names are built into PostgreSQL.
  await sql.raw(`CREATE FUNCTION post_search_config(language text) RETURNS regconfig
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (CASE split_part(lower(language), '-', 1) ${cases} ELSE 'simple' END)::regconfig $$`).execute(db)
  await sql.raw(`CREATE FUNCTION post_search_vector(language text, title text, subtitle text, excerpt text, body_text text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT setweight(to_tsvector(post_search_config(language), coalesce(title, '')), 'A') ||
                 setweight(to_tsvector(post_search_config(language), coalesce(subtitle, '') || ' ' || coalesce(excerpt, '')), 'B') ||
                 setweight(to_tsvector(post_search_config(language), coalesce(body_text, '')), 'C') $$`).execute(db)
  // A query in every configuration at once, OR-ed: it matches a superset of the posts whose own
  // language's query matches, so it can narrow a search with the index before the exact check.
  const anyConfig = [...new Set(Object.values(CONFIGS)), 'simple'].map((config) => `websearch_to_tsquery('${config}', q)`).join(' || ')
  await sql.raw(`CREATE FUNCTION post_search_query_any(q text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ${anyConfig} $$`).execute(db)

  await sql`ALTER TABLE posts ADD COLUMN search_by_language tsvector`.execute(db)
  await sql`CREATE FUNCTION posts_search_by_language() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.search_by_language := post_search_vector(NEW.language, NEW.title, NEW.subtitle, NEW.excerpt, NEW.body_text);
      RETURN NEW;
    END $$`.execute(db)
  await sql`CREATE TRIGGER posts_search_by_language BEFORE INSERT OR UPDATE OF language, title, subtitle, excerpt, body_text ON posts
    FOR EACH ROW EXECUTE FUNCTION posts_search_by_language()`.execute(db)
  for (;;) {
    const result = await sql`UPDATE posts SET search_by_language = post_search_vector(language, title, subtitle, excerpt, body_text)
      WHERE id IN (SELECT id FROM posts WHERE search_by_language IS NULL LIMIT ${sql.lit(BATCH)})`.execute(db)
    if (Number(result.numAffectedRows ?? 0) < BATCH) break
  }
  await sql`CREATE INDEX posts_search_by_language_idx ON posts USING gin (search_by_language)`.execute(db)
  await sql`ALTER TABLE posts DROP COLUMN search`.execute(db)
  await sql`ALTER TABLE posts RENAME COLUMN search_by_language TO search`.execute(db)
  await sql`ALTER INDEX posts_search_by_language_idx RENAME TO posts_search_idx`.execute(db)
  // The trigger now keeps the renamed column.
  await sql`CREATE OR REPLACE FUNCTION posts_search_by_language() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.search := post_search_vector(NEW.language, NEW.title, NEW.subtitle, NEW.excerpt, NEW.body_text);
      RETURN NEW;
    END $$`.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER posts_search_by_language ON posts`.execute(db)
  await sql`DROP FUNCTION posts_search_by_language()`.execute(db)
  await sql`ALTER TABLE posts DROP COLUMN search`.execute(db)
  await sql`ALTER TABLE posts ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
    setweight(to_tsvector('english'::regconfig, coalesce(subtitle, '') || ' ' || coalesce(excerpt, '')), 'B') ||
    setweight(to_tsvector('english'::regconfig, body_text), 'C')
  ) STORED`.execute(db)
  await sql`CREATE INDEX posts_search_idx ON posts USING gin (search)`.execute(db)
  await sql`DROP FUNCTION post_search_query_any(text)`.execute(db)
  await sql`DROP FUNCTION post_search_vector(text, text, text, text, text)`.execute(db)
  await sql`DROP FUNCTION post_search_config(text)`.execute(db)
}
