import t from 'tap'
import { createApiKey } from '../../src/access/api-keys/api-keys.service.ts'
import { staleKeysFor } from '../../src/changes/surrogate-keys.ts'
import { newAuthor, newBlog, newPost, newTag } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// A Ghost frontend's tag and author pages are lists filtered in NQL (`filter=tag:war`), cached at
// the edge by their Surrogate-Key. Such a list holds only its tags' (or authors') posts, so only
// their changes may purge it: a publish elsewhere in the network leaves it cached. Checked
// against the purges the change log's own rows make (staleKeysFor): after every write, a list
// whose bytes changed must have been purged, and the lists named below must have been left.

t.test('Ghost lists filtered to tags or authors are purged by their posts\' changes, and no others', async (t) => {
  const { app } = await buildTestApp(t, { RESPONSE_CACHE_MAX_MB: '0' })
  const { key } = await createApiKey(app.db, 'Ghost frontend', ['content:read'], 'ghost')
  const admin = (await createApiKey(app.db, 'desk', ['admin'])).key
  const [desk, wire] = [await newBlog(app.db, { slug: 'desk' }), await newBlog(app.db, { slug: 'wire' })]
  const [ann, bob] = [await newAuthor(app.db, { slug: 'ann' }), await newAuthor(app.db, { slug: 'bob' })]
  const [war, oil] = [await newTag(app.db, { slug: 'war' }), await newTag(app.db, { slug: 'oil' })]
  await newPost(app.db, { blogId: desk.id, slug: 'front', authorIds: [ann.id], tagIds: [war.id] })
  await newPost(app.db, { blogId: wire.id, slug: 'pipeline', authorIds: [bob.id], tagIds: [oil.id] })

  const lists = {
    war: 'filter=tag:war',
    warAmongOthers: 'filter=tag:[war,nowhere]',
    primaryWar: 'filter=primary_tag:war%2Bfeatured:false',
    annOnWar: 'filter=tag:war%2Bauthors.slug:ann',
    oil: 'filter=tags.slug:oil',
    eitherOr: 'filter=tag:war,author:bob',
    notWar: 'filter=tag:-war',
    unfiltered: 'limit=5',
    deskWar: 'site:filter=tag:war'
  }
  const url = (query: string) => query.startsWith('site:')
    ? `/sites/desk/ghost/api/content/posts/?key=${key}&${query.slice(5)}`
    : `/ghost/api/content/posts/?key=${key}&${query}`
  const read = async () => Object.fromEntries(await Promise.all(Object.entries(lists).map(async ([name, query]) => {
    const res = await app.inject({ url: url(query) })
    t.equal(res.statusCode, 200, `${name}: ${res.body.slice(0, 200)}`)
    return [name, { body: res.body, keys: String(res.headers['surrogate-key']).split(' ') }] as const
  })))
  const newestSeq = async () => (await app.db.selectFrom('changes').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst())?.seq ?? '0'

  /** Which lists a write purged, by the keys its change-log rows purge; each changed list among them. */
  const purgedBy = async (label: string, write: () => Promise<{ statusCode: number, body: string }>) => {
    const before = await read()
    const seq = await newestSeq()
    const res = await write()
    t.ok(res.statusCode < 300, `${label}: ${res.statusCode} ${res.body.slice(0, 200)}`)
    const rows = await app.db.selectFrom('changes').selectAll().where('seq', '>', seq).where('public_op', 'is not', null).execute()
    const stale = new Set(rows.flatMap((row) => staleKeysFor(row)))
    const after = await read()
    const purged = Object.keys(lists).filter((name) => before[name]!.keys.some((k) => stale.has(k)))
    for (const name of Object.keys(lists)) {
      if (after[name]!.body !== before[name]!.body) t.ok(purged.includes(name), `${label}: ${name} changed, and was purged`)
    }
    return purged.sort()
  }
  const publish = (payload: object) => app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${admin}` }, payload: { status: 'published', body_markdown: 'News.', ...payload } })

  t.same(await purgedBy('a publish in another blog, by another author, under another tag', () => publish({ blog: 'wire', title: 'More oil', authors: ['bob'], tags: ['oil'] })),
    ['eitherOr', 'notWar', 'oil', 'unfiltered', 'warAmongOthers'], 'the war lists stay cached, on the network and on the desk\'s site (war among others: below)')
  t.same(await purgedBy('a publish under war, by bob', () => publish({ blog: 'wire', title: 'Front line', authors: ['bob'], tags: ['war'] })),
    ['eitherOr', 'notWar', 'primaryWar', 'unfiltered', 'war', 'warAmongOthers'],
    'the war lists, but not the oil list nor the desk\'s site (the post is the wire\'s), nor ann on war (one tag against one author: it is ann\'s list, and bob wrote it)')
  t.same(await purgedBy('a publish in the desk under oil', () => publish({ blog: 'desk', title: 'Desk oil', authors: ['ann'], tags: ['oil'] })),
    ['annOnWar', 'deskWar', 'eitherOr', 'notWar', 'oil', 'unfiltered', 'warAmongOthers'], 'the desk\'s site list is the desk\'s, ann on war is ann\'s: their posts\' changes purge them')
  // A tag that names nothing yet (`nowhere`) may be created with posts any moment: a list that
  // asks for it cannot name it, so it is one of every post's lists until then.
  t.ok((await read()).warAmongOthers!.keys.includes('posts:any'), 'a list asking for a tag that does not exist is every post\'s')
  await newTag(app.db, { slug: 'nowhere' })
  const named = (await read()).warAmongOthers!.keys
  t.ok(named.includes(`posts:in:tag:${war.id}`) && !named.includes('posts:any'), 'once it exists, its list names both tags\' keys')

  // A filter may list a thousand tags (4,000 characters): naming each would make a header
  // Varnish refuses (8 KB), so past as many as a /v1 filter takes it is every post's list.
  const many = Array.from({ length: 21 }, (_, i) => `beat-${i}`)
  for (const slug of many) await newTag(app.db, { slug })
  const keysOf = async (slugs: string[]) => String((await app.inject({ url: url(`filter=tag:[${slugs.join(',')}]`) })).headers['surrogate-key']).split(' ')
  t.equal((await keysOf(many.slice(0, 20))).filter((k) => k.startsWith('posts:in:tag:')).length, 20, 'twenty tags: each named')
  const header = await keysOf(many)
  t.ok(header.includes('posts:any') && !header.some((k) => k.startsWith('posts:in:')), 'twenty-one: every post\'s list')
  const thousand = await app.inject({ url: url(`filter=tag:[${Array.from({ length: 700 }, (_, i) => `t${i}`).join(',')}]`) })
  t.equal(thousand.statusCode, 200)
  t.ok(String(thousand.headers['surrogate-key']).length < 200, `seven hundred slugs (3,400 of the filter's 4,000 characters): a short header (${String(thousand.headers['surrogate-key']).length} bytes)`)
})
