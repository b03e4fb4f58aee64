import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// Thai, Lao, Khmer and Burmese are written without spaces between words too (spaces end phrases
// and sentences), and PostgreSQL's parser took each run up to a space as one word: q=ข่าว
// ("news") found no post that says ข่าวต่างประเทศ ("foreign news"), only the whole run did, and
// a run longer than 2 KB was not indexed at all. Their runs are now cut into overlapping
// two-character pieces as Chinese and Japanese are (cjk_bigrams, whose name stays), and a
// query's runs the same way (src/content/posts/search-text.ts), so a word is found anywhere in
// a run, as with Lucene's n-gram analyzers for these scripts. The posts with such text are
// indexed again here.

const RUN_CHARACTERS = '\\u0e00-\\u0eff\\u1000-\\u109f\\u1780-\\u17ff\\u19e0-\\u19ff\\u3040-\\u30ff\\u31f0-\\u31ff\\u3400-\\u4dbf\\u4e00-\\u9fff' +
  '\\ua9e0-\\ua9ff\\uaa60-\\uaa7f\\uf900-\\ufaff\\uff66-\\uff9f\\U00020000-\\U0003134f'
const CJK_CHARACTERS = '\\u3040-\\u30ff\\u31f0-\\u31ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\uff66-\\uff9f\\U00020000-\\U0003134f'
const ADDED_CHARACTERS = '\\u0e00-\\u0eff\\u1000-\\u109f\\u1780-\\u17ff\\u19e0-\\u19ff\\ua9e0-\\ua9ff\\uaa60-\\uaa7f'

const piecesFunction = (run: string) => `CREATE OR REPLACE FUNCTION cjk_bigrams(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN t IS NULL OR t !~ '[${run}]' THEN t ELSE (
      SELECT string_agg(CASE WHEN m[1] ~ '^[${run}]' AND length(m[1]) > 1
        THEN ' ' || (SELECT string_agg(c || next, ' ' ORDER BY i) FROM (
            SELECT c, i, lead(c) OVER (ORDER BY i) AS next FROM unnest(string_to_array(m[1], NULL)) WITH ORDINALITY AS characters(c, i)) AS pairs
          WHERE next IS NOT NULL) || ' '
        ELSE m[1] END, '' ORDER BY n)
      FROM regexp_matches(t, '[${run}]+|[^${run}]+', 'g') WITH ORDINALITY AS runs(m, n)) END $$`

async function reindexPostsWith (db: Kysely<any>, characters: string): Promise<void> {
  await sql.raw(`UPDATE posts SET search = post_search_vector_within_limit(language, title, subtitle, excerpt, body_text)
    WHERE concat_ws(' ', title, subtitle, excerpt, body_text) ~ '[${characters}]'`).execute(db)
}

export async function up (db: Kysely<any>): Promise<void> {
  await sql.raw(piecesFunction(RUN_CHARACTERS)).execute(db)
  await reindexPostsWith(db, ADDED_CHARACTERS)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql.raw(piecesFunction(CJK_CHARACTERS)).execute(db)
  await reindexPostsWith(db, ADDED_CHARACTERS)
}
