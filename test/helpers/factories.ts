import { uuidv7 } from 'uuidv7'
import type { Kysely } from 'kysely'
import type { DB } from '../../src/db/schema.ts'

// Test fixtures, written straight to the database: each returns the row it made.

let counter = 0
const unique = () => `${Date.now().toString(36)}-${(counter++).toString(36)}`

export async function newBlog (db: Kysely<DB>, overrides: Partial<{ slug: string, title: string, description: string, language: string }> = {}) {
  const slug = overrides.slug ?? `blog-${unique()}`
  return db.insertInto('blogs')
    .values({ id: uuidv7(), slug, title: overrides.title ?? `Blog ${slug}`, description: overrides.description ?? '', language: overrides.language ?? 'en' })
    .returningAll()
    .executeTakeFirstOrThrow()
}
