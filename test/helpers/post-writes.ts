import type { Test } from 'tap'
import { newApiKey, newAuthor, newBlog, newTag } from './factories.ts'
import { buildTestApp, type TestApp } from './test-app.ts'

// What the tests of content writes start from: an app (rate limits out of the way), a key that
// may write, a blog, an author and a tag, and a way to send JSON with that key; and the row
// counts of the tables a write touches, to show that a refused write left nothing behind.

const LIMITS = { RATE_LIMIT_ANONYMOUS: '100000', RATE_LIMIT_READ: '100000', RATE_LIMIT_WRITE: '100000' }

export async function setUpWriter (t: Test, env: Record<string, string> = {}) {
  const testApp = await buildTestApp(t, { ...LIMITS, ...env })
  const writer = await newApiKey(testApp.app.db, ['content:write'])
  const blog = await newBlog(testApp.app.db, { slug: 'desk' })
  const author = await newAuthor(testApp.app.db, { slug: 'ann', name: 'Ann' })
  const tag = await newTag(testApp.app.db, { slug: 'world', name: 'World' })
  const send = (method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) => testApp.app.inject({
    method: method as 'POST',
    url,
    headers: { authorization: `Bearer ${writer}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) })
  })
  return { ...testApp, writer, blog, author, tag, send }
}

export async function tableCounts (app: TestApp['app']) {
  const count = async (table: 'posts' | 'post_authors' | 'post_tags' | 'changes' | 'idempotency_keys') =>
    Number((await app.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
  return { posts: await count('posts'), post_authors: await count('post_authors'), post_tags: await count('post_tags'), changes: await count('changes'), idempotency_keys: await count('idempotency_keys') }
}
