import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import cliProgress from 'cli-progress'
import { sql, type Kysely } from 'kysely'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { Database } from '../src/db/database.ts'
import type { DB } from '../src/db/schema.ts'
import {
  AUTHORS, BENCH_PREFIX, BLOGS, LINK_COLUMNS, POST_COLUMNS, TAGS, authorRows, blogRows, copyLine, makePost, tagRows, type PostRows
} from './dataset.ts'

// Loads the dataset. PostgreSQL: COPY in chunks over two connections (the server computes each
// post's search vector, some half of the work), with the secondary indexes dropped during
// the load and built once at the end. Embedded: batched INSERTs.

const CHUNK = 5_000
const TABLES = ['posts', 'post_authors', 'post_tags'] as const
/** Triggers on posts that keep what each post's row alone gives: its search vector, its JSON runs (the others copy it elsewhere, as the loaders do). */
const ROW_TRIGGERS = ['posts_search_by_language', 'posts_json_runs'] as const

export interface GenerateResult { posts: number, loadSeconds: number, indexSeconds: number, postsPerSecond: number }

/** How many bench posts are there already, or undefined when the database holds other content. */
export async function existingBenchPosts (db: Kysely<DB>): Promise<number | undefined> {
  const foreign = await db.selectFrom('blogs').select('id').where('slug', 'not like', `${BENCH_PREFIX}%`).limit(1).executeTakeFirst()
  if (foreign !== undefined) return undefined
  const row = await db.selectFrom('posts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

export async function generate (database: Database, options: { posts: number, url?: string | undefined, log: (line: string) => void }): Promise<GenerateResult> {
  const { db } = database
  const now = Date.now()
  await sql`TRUNCATE posts, post_json_runs, post_json_runs_backfill, post_authors, post_tags, slug_redirects, changes, webhook_deliveries, blogs, authors, tags CASCADE`.execute(db)
  await db.insertInto('blogs').values(blogRows()).execute()
  for (let i = 0; i < AUTHORS; i += 1_000) await db.insertInto('authors').values(authorRows().slice(i, i + 1_000)).execute()
  for (let i = 0; i < TAGS; i += 1_000) await db.insertInto('tags').values(tagRows().slice(i, i + 1_000)).execute()
  options.log(`${BLOGS} blogs, ${AUTHORS} authors, ${TAGS} tags; now ${options.posts.toLocaleString('en')} posts`)

  const bar = new cliProgress.SingleBar({
    format: 'posts |{bar}| {percentage}% {value}/{total} {rate} posts/s ETA {eta_formatted}',
    noTTYOutput: true,
    notTTYSchedule: 10_000
  }, cliProgress.Presets.shades_classic)
  const started = Date.now()
  let done = 0
  bar.start(options.posts, 0, { rate: 0 })
  const advance = (count: number) => {
    done += count
    bar.update(done, { rate: Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)) })
  }

  let indexSeconds = 0
  if (database.kind === 'postgres' && options.url !== undefined) {
    const indexes = await secondaryIndexes(db)
    for (const index of indexes) await sql.raw(`DROP INDEX ${index.name}`).execute(db)
    // The loaders skip triggers (replication role), but each post's search vector and JSON runs
    // are kept by them: they must fire, or full-text queries would measure empty vectors and
    // lists would compute every post's JSON (post_json_on_the_row, post_json_runs_table).
    for (const trigger of ROW_TRIGGERS) await sql`ALTER TABLE posts ENABLE ALWAYS TRIGGER ${sql.ref(trigger)}`.execute(db)
    try {
      // Two loaders, one per core: each takes every other chunk.
      const loaders = [0, 1].map((lane) => loadWithCopy(options.url as string, options.posts, now, lane, 2, advance))
      await Promise.all(loaders)
    } finally {
      bar.stop()
      for (const trigger of ROW_TRIGGERS) await sql`ALTER TABLE posts ENABLE TRIGGER ${sql.ref(trigger)}`.execute(db)
      const indexStarted = Date.now()
      options.log(`building ${indexes.length} indexes`)
      await sql`SET maintenance_work_mem = '512MB'`.execute(db)
      for (const index of indexes) await sql.raw(index.definition).execute(db)
      indexSeconds = (Date.now() - indexStarted) / 1000
    }
  } else {
    for (let n = 0; n < options.posts; n += 500) {
      const rows = Array.from({ length: Math.min(500, options.posts - n) }, (_, i) => makePost(n + i, now))
      await db.transaction().execute(async (tx) => {
        await tx.insertInto('posts').values(rows.map((row) => row.post) as never).execute()
        const authors = rows.flatMap((row) => row.authors)
        const tags = rows.flatMap((row) => row.tags)
        if (authors.length > 0) await tx.insertInto('post_authors').values(authors as never).execute()
        if (tags.length > 0) await tx.insertInto('post_tags').values(tags as never).execute()
      })
      advance(rows.length)
    }
    bar.stop()
  }
  const loadSeconds = (Date.now() - started) / 1000 - indexSeconds
  // The loaders skip the triggers that count posts per blog and month for sitemaps: counted once here.
  await sql`SELECT recount_sitemap_months()`.execute(db)
  await sql`VACUUM ANALYZE posts`.execute(db)
  await sql`VACUUM ANALYZE post_authors`.execute(db)
  await sql`VACUUM ANALYZE post_tags`.execute(db)
  return { posts: options.posts, loadSeconds, indexSeconds, postsPerSecond: Math.round(options.posts / (loadSeconds + indexSeconds)) }
}

/** Indexes that no constraint needs: dropped for the load, rebuilt from their own definitions. */
async function secondaryIndexes (db: Kysely<DB>): Promise<Array<{ name: string, definition: string }>> {
  const result = await sql<{ name: string, definition: string }>`
    SELECT quote_ident(ic.relname) AS name, pg_get_indexdef(i.indexrelid) AS definition
    FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
    WHERE t.relname IN (${sql.join(TABLES.map((table) => sql.lit(table)))}) AND t.relnamespace = current_schema()::regnamespace
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`.execute(db)
  return result.rows
}

async function loadWithCopy (url: string, total: number, now: number, lane: number, lanes: number, advance: (count: number) => void): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    // The rows are consistent by construction; with replication role the triggers that copy
    // published_at and the public state into the join tables (given here already) and the FK
    // checks are skipped.
    // It needs superuser; without it the load is slower, not different.
    await client.query("SET session_replication_role = 'replica'").catch(() => {})
    await client.query('SET synchronous_commit = off')
    // lz4 compresses the bodies several times faster than the default pglz; readers do not care.
    await client.query("SET default_toast_compression = 'lz4'").catch(() => {})
    for (let start = lane * CHUNK; start < total; start += CHUNK * lanes) {
      const rows: PostRows[] = []
      for (let n = start; n < Math.min(total, start + CHUNK); n++) rows.push(makePost(n, now))
      await client.query('BEGIN')
      await copyRows(client, 'posts', POST_COLUMNS, rows.map((row) => copyLine(POST_COLUMNS.map((column) => row.post[column] ?? null))))
      await copyRows(client, 'post_authors', LINK_COLUMNS.post_authors, rows.flatMap((row) => row.authors.map((link) => copyLine([link.post_id, link.author_id, link.position, link.published_at, link.is_public]))))
      await copyRows(client, 'post_tags', LINK_COLUMNS.post_tags, rows.flatMap((row) => row.tags.map((link) => copyLine([link.post_id, link.tag_id, link.position, link.published_at, link.is_public]))))
      await client.query('COMMIT')
      advance(rows.length)
    }
  } finally {
    await client.end()
  }
}

async function copyRows (client: pg.Client, table: string, columns: readonly string[], lines: string[]): Promise<void> {
  if (lines.length === 0) return
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`))
  await pipeline(Readable.from(lines), stream)
}
