import { sql, type Kysely } from 'kysely'

// Frozen in time: never import from src/.
// Blogs' website_url and post_url_template were kept as written, and post addresses are built
// from them as they are: a space, a quote, a non-ASCII letter or an IDN host went out as is in
// every post's `url`, each feed's links and each sitemap's <loc>, none of which is then a URI
// (RFC 3986) that a crawler or feed validator takes. Writes now keep them as the WHATWG URL
// parser serializes them (ASCII); this brings the blogs written before to the same form. Each
// blog that changes is a blog change (version, updated_at, the change log), since every post
// address of it changes: caches are purged and clients that keep in sync see it.

const APPEND_LOCK = 7_350_001
const PLACEHOLDER = /\{(blog|slug|id|yyyy|mm|dd)\}/g

const serialized = (url: string) => new URL(url).href.replace(/%(?![0-9A-Fa-f]{2})/g, '%25')

function normalizedWebsite (url: string): string {
  // eslint-disable-next-line regexp/no-super-linear-move -- frozen; a stored website is at most 2,000 characters
  return serialized(url).replace(/\/+$/, '')
}

function normalizedPostUrlTemplate (template: string): string {
  let tag = 'zzplaceholder'
  while (template.toLowerCase().includes(tag)) tag += 'z'
  const names: string[] = []
  const marked = template.replace(PLACEHOLDER, (_, name: string) => `${tag}${names.push(name) - 1}zz`)
  return serialized(marked).replace(new RegExp(`${tag}(\\d+)zz`, 'g'), (_, index: string) => `{${names[Number(index)]}}`)
}

/** The normalized form, or the value as it is when it cannot be parsed (left to whoever edits it next). */
function normalized (value: string | null, normalize: (value: string) => string): string | null {
  if (value === null) return null
  try {
    return normalize(value)
  } catch {
    return value
  }
}

export async function up (db: Kysely<any>): Promise<void> {
  const blogs = await db.selectFrom('blogs').select(['id', 'website_url', 'post_url_template']).execute()
  const changed = blogs.flatMap((blog) => {
    const website = normalized(blog.website_url as string | null, normalizedWebsite)
    const template = normalized(blog.post_url_template as string | null, normalizedPostUrlTemplate)
    return website === blog.website_url && template === blog.post_url_template ? [] : [{ id: blog.id as string, website, template }]
  })
  for (const blog of changed) {
    await db.updateTable('blogs')
      .set({ website_url: blog.website, post_url_template: blog.template, version: sql`version + 1`, updated_at: sql`now()` })
      .where('id', '=', blog.id).execute()
  }
  if (changed.length === 0) return
  await sql`SELECT pg_advisory_xact_lock(${APPEND_LOCK})`.execute(db)
  await db.insertInto('changes').values(changed.map((blog) => ({
    entity_type: 'blog', entity_id: blog.id, blog_id: blog.id, op: 'upsert', public_op: 'upsert', event: 'blog.updated'
  }))).execute()
  await sql`SELECT pg_notify('content_changes', '')`.execute(db)
}

export async function down (): Promise<void> {
  // The earlier forms are not kept; the normalized ones are valid under the code before too.
}
