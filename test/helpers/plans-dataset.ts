import { sql, type Kysely } from 'kysely'
import type { DB } from '../../src/db/schema.ts'
import { openPostgres } from '../../src/db/postgres.ts'
import { createTestDatabase, quoteIdent, templateDatabaseName, testServerUrl, withAdminClient, withDatabaseName, type TestDatabase } from './test-database.ts'

// The heavy tests' archive (test/heavy): 100,000 posts over 50 blogs, 200 authors and 500 tags,
// analyzed, so that the planner weighs plans as it would for a real publisher's archive.

export const POSTS = 100_000

export async function loadPlansDataset (db: Kysely<DB>) {
  const statements = [
    sql`INSERT INTO blogs (id, slug, title) SELECT gen_random_uuid(), 'blog-' || i, 'Blog ' || i FROM generate_series(1, 50) i`,
    sql`INSERT INTO authors (id, slug, name) SELECT gen_random_uuid(), 'author-' || i, 'Author ' || i FROM generate_series(1, 200) i`,
    sql`INSERT INTO tags (id, slug, name) SELECT gen_random_uuid(), 'tag-' || i, 'Tag ' || i FROM generate_series(1, 500) i`,
    // A few percent drafts and deleted posts, like a real archive.
    // One post in fifty in French, the rest in English.
    sql`INSERT INTO posts (id, blog_id, slug, title, body_text, language, is_breaking, status, published_at, deleted_at)
        SELECT gen_random_uuid(), b.ids[1 + i % 50], 'post-' || i, 'Post ' || i, 'body text of post ' || i, CASE WHEN i % 50 = 7 THEN 'fr' ELSE 'en' END, i % 100 = 3,
               CASE WHEN i % 40 = 0 THEN 'draft' ELSE 'published' END,
               CASE WHEN i % 40 = 0 THEN NULL ELSE now() - make_interval(mins => i) END,
               CASE WHEN i % 97 = 0 THEN now() END
        FROM generate_series(1, ${POSTS}) i, (SELECT array_agg(id ORDER BY slug) AS ids FROM blogs) b`,
    sql`INSERT INTO post_authors (post_id, author_id, position)
        SELECT p.id, a.ids[1 + abs(hashtext(p.id::text)) % 200], 0
        FROM posts p, (SELECT array_agg(id ORDER BY slug) AS ids FROM authors) a`,
    sql`INSERT INTO post_tags (post_id, tag_id, position)
        SELECT p.id, g.ids[1 + abs(hashtext(p.slug)) % 500], 0
        FROM posts p, (SELECT array_agg(id ORDER BY slug) AS ids FROM tags) g`,
    sql`ANALYZE`
  ]
  for (const statement of statements) await statement.execute(db)
}

/** The PostgreSQL template holding the archive; made by the first heavy file that asks, dropped with the suite's template. */
export const plansTemplateName = (serverUrl: string) => `${templateDatabaseName(serverUrl)}_plans`

/** Any number; only this file takes it. */
const BUILD_LOCK = 4_217_001

/**
 * A database of the caller's own holding the archive. Loading it (triggers and indexes for every
 * post) takes a minute and a half; on PostgreSQL it is loaded once per run into a template that
 * each heavy file copies in seconds. The first file to ask builds it, under an advisory lock the
 * others wait on, under another name until it is whole, so a run stopped mid-load leaves no half
 * archive for the next to copy. The copy carries the statistics ANALYZE gathered (pg_statistic
 * is copied with the database). The embedded database loads its own each time.
 */
export async function createPlansDatabase (): Promise<TestDatabase> {
  const serverUrl = testServerUrl()
  if (serverUrl === undefined) {
    const testDb = await createTestDatabase()
    await loadPlansDataset(testDb.database.db)
    return testDb
  }
  const template = plansTemplateName(serverUrl)
  await withAdminClient(serverUrl, async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [BUILD_LOCK])
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [template])
      if (rowCount !== 0) return
      const building = `${template}_building`
      await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(building)} WITH (FORCE)`)
      await client.query(`CREATE DATABASE ${quoteIdent(building)} TEMPLATE ${quoteIdent(templateDatabaseName(serverUrl))}`)
      const database = openPostgres({ url: withDatabaseName(serverUrl, building), poolSize: 1 })
      try {
        await loadPlansDataset(database.db)
      } finally {
        await database.close()
      }
      await client.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(template)}`)
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [BUILD_LOCK])
    }
  })
  return createTestDatabase({ template })
}
