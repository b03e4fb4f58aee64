import jsonMergePatch from 'json-merge-patch'
import t from 'tap'
import { generateOpenApiDocument } from '../../src/cli.ts'
import { seedDemo } from '../../src/demo/seed-demo.ts'
import { newApiKey } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// A PATCH body here is a JSON Merge Patch (RFC 7396), and is taken as
// application/merge-patch+json, the type clients that follow the RFC (or Microsoft's and
// Zalando's API guidelines) send: they were refused with 415. What each patch must do is
// worked out by json-merge-patch, an implementation of the RFC that is not ours, from the
// resource as the API shows it; the API's answer after the PATCH must be that. A field the API
// shows as null is one the RFC's result does not have. A refused body type is a 415 that says
// which types are taken, in Accept (RFC 9110, 15.5.16) and on PATCH in Accept-Patch (RFC 5789).

type Json = Record<string, unknown>
const MERGE_PATCH = 'application/merge-patch+json'

/** The document without its null members (RFC 7396 removes a member where the API shows null). */
function withoutNulls (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== null).map(([key, member]) => [key, withoutNulls(member)]))
}

const pick = (data: Json, fields: string[]): Json => Object.fromEntries(fields.map((field) => [field, data[field]]))
const slugs = (list: unknown) => (list as Array<{ slug: string }>).map((item) => item.slug)

/** Each resource as a writer sees it: its writable fields, related things by slug as a PATCH names them. */
const RESOURCES: Record<string, { url: string, writable: (data: Json) => Json, patches: Json[] }> = {
  blog: {
    url: '/v1/blogs/under-the-black-flag',
    writable: (data) => pick(data, ['title', 'description', 'language', 'website_url', 'post_url_template', 'logo_url', 'icon_url', 'cover_image_url', 'social_accounts']),
    patches: [
      { description: 'News and analysis on the Islamic State group.', website_url: 'https://news.example.com/flag' },
      { website_url: null, social_accounts: [{ label: 'X', url: 'https://x.com/underblackflag' }] },
      { logo_url: 'https://static.example.com/flag/logo.png', social_accounts: [] },
      { logo_url: null, title: 'Under The Black Flag (edited)', post_url_template: 'https://news.example.com/flag/{yyyy}/{slug}' },
      { post_url_template: null }
    ]
  },
  author: {
    url: '/v1/authors/joanna-paraszczuk',
    writable: (data) => pick(data, ['name', 'bio', 'avatar_url', 'links']),
    patches: [
      { bio: 'Covers the Islamic State group.', avatar_url: 'https://static.example.com/people/jp.jpg' },
      { avatar_url: null, links: [{ label: 'Site', url: 'https://jp.example.com/' }] },
      { name: 'Joanna P.', links: [] }
    ]
  },
  tag: {
    url: '/v1/tags/russia',
    writable: (data) => pick(data, ['name', 'description']),
    patches: [{ description: 'Moscow and its policies.' }, { name: 'Russia (edited)' }]
  },
  post: {
    url: '',
    writable: (data) => ({
      ...pick(data, ['title', 'subtitle', 'excerpt', 'language', 'is_breaking', 'is_featured', 'lead_image']),
      authors: slugs(data.authors),
      tags: slugs(data.tags)
    }),
    patches: [
      { subtitle: 'Moscow says it will not join the coalition', excerpt: null },
      { lead_image: { caption: 'Only the caption changes.', credit: 'RFE/RL' } },
      { lead_image: { alt: null, width: 1200, height: 800 }, is_breaking: false },
      { tags: ['russia'], authors: ['joanna-paraszczuk'] },
      { lead_image: null, is_featured: true },
      { lead_image: { url: 'https://static.example.com/flag/new-lead.jpg', caption: 'A new image' } },
      { title: 'Is Moscow Walking Back the Reports?', lead_image: { caption: null }, subtitle: null }
    ]
  }
}

t.test('a PATCH as application/merge-patch+json does what RFC 7396 says (json-merge-patch works it out), for every kind of resource', async (t) => {
  const { app } = await buildTestApp(t)
  await seedDemo(app.db)
  const writer = { authorization: `Bearer ${await newApiKey(app.db, ['content:write', 'content:preview'])}` }
  const flagship = (await app.inject({ url: '/v1/blogs/under-the-black-flag/posts/is-moscow-walking-back-is-intel-sharing-reports' })).json().data as { id: string }
  RESOURCES.post!.url = `/v1/posts/${flagship.id}`

  for (const [kind, resource] of Object.entries(RESOURCES)) {
    for (const patch of resource.patches) {
      const before = resource.writable((await app.inject({ url: resource.url, headers: writer })).json().data)
      const expected = jsonMergePatch.apply(structuredClone(before), structuredClone(patch))
      const res = await app.inject({ method: 'PATCH', url: resource.url, headers: { ...writer, 'content-type': MERGE_PATCH }, payload: JSON.stringify(patch) })
      t.equal(res.statusCode, 200, `${kind} ${JSON.stringify(patch)}: ${res.body.slice(0, 300)}`)
      const answered = resource.writable(res.json().data)
      const after = resource.writable((await app.inject({ url: resource.url, headers: writer })).json().data)
      t.same(withoutNulls(answered), withoutNulls(expected), `${kind} ${JSON.stringify(patch)}: the answer is the RFC's result`)
      t.same(after, answered, `${kind}: a read afterwards shows the same`)
    }
  }
})

t.test('as application/json a lead image replaces the post\'s whole; a merge into no lead image is refused, nothing written', async (t) => {
  const { app } = await buildTestApp(t)
  await seedDemo(app.db)
  const writer = { authorization: `Bearer ${await newApiKey(app.db, ['content:write'])}` }
  const { id } = (await app.inject({ url: '/v1/blogs/under-the-black-flag/posts/is-moscow-walking-back-is-intel-sharing-reports' })).json().data as { id: string }
  const patch = (type: string, body: Json) => app.inject({ method: 'PATCH', url: `/v1/posts/${id}`, headers: { ...writer, 'content-type': type }, payload: JSON.stringify(body) })
  const read = async () => (await app.inject({ url: `/v1/posts/${id}` })).json().data as { version: number, lead_image: Json | null }

  const partial = await patch('application/json', { lead_image: { caption: 'Only this' } })
  t.equal(partial.statusCode, 400)
  t.same(partial.json().errors, [{ path: 'body.lead_image.url', message: 'is required as application/json' }])
  t.match(partial.json().detail, /application\/merge-patch\+json/, 'says how to change some fields only')

  const replaced = await patch('application/json; charset=utf-8', { lead_image: { url: 'https://static.example.com/flag/other.jpg' } })
  t.equal(replaced.statusCode, 200)
  t.same(replaced.json().data.lead_image, { url: 'https://static.example.com/flag/other.jpg', alt: null, caption: null, credit: null, width: null, height: null }, 'the old alt and caption went with the old image')

  t.equal((await patch(MERGE_PATCH, { lead_image: null })).statusCode, 200)
  const before = await read()
  const into = await patch(MERGE_PATCH, { lead_image: { caption: 'A caption for no image' }, title: 'Not written either' })
  t.equal(into.statusCode, 422)
  t.same(into.json().errors, [{ path: 'body.lead_image.url', message: 'is required: the post has no lead image yet' }])
  t.same(await read(), before, 'nothing written')

  // A member the RFC would remove but the resource cannot go without: refused, naming it.
  for (const field of ['title', 'is_breaking', 'tags']) {
    const res = await patch(MERGE_PATCH, { [field]: null })
    t.equal(res.statusCode, 400, `${field}: null`)
    t.ok(res.json().errors.some((e: { path: string }) => e.path === `body.${field}`), `names body.${field}`)
  }
})

t.test('seo: null clears every SEO field back to the article\'s defaults', async (t) => {
  const { app } = await buildTestApp(t)
  await seedDemo(app.db)
  const writer = { authorization: `Bearer ${await newApiKey(app.db, ['content:write'])}` }
  const { id, seo: defaults } = (await app.inject({ url: '/v1/blogs/under-the-black-flag/posts/is-moscow-walking-back-is-intel-sharing-reports' })).json().data as { id: string, seo: Json }
  const patch = (body: Json) => app.inject({ method: 'PATCH', url: `/v1/posts/${id}`, headers: { ...writer, 'content-type': MERGE_PATCH }, payload: JSON.stringify(body) })
  const set = await patch({ seo: { meta_title: 'Moscow walks back', og_image: 'https://static.example.com/flag/og.jpg', noindex: true } })
  t.equal(set.statusCode, 200)
  t.match(set.json().data.seo, { meta_title: 'Moscow walks back', og_image: 'https://static.example.com/flag/og.jpg', robots: /noindex/ })
  const one = await patch({ seo: { meta_title: null } })
  t.equal(one.json().data.seo.meta_title, defaults.meta_title, 'one field back to its default')
  t.equal(one.json().data.seo.og_image, 'https://static.example.com/flag/og.jpg', 'the others kept')
  const cleared = await patch({ seo: null })
  t.equal(cleared.statusCode, 200)
  t.same(cleared.json().data.seo, defaults, 'all of them back to the defaults')
})

t.test('a body type an operation does not take is a 415 naming those it does, in Accept and (PATCH) Accept-Patch, as documented', async (t) => {
  const { app } = await buildTestApp(t)
  await seedDemo(app.db)
  const admin = { authorization: `Bearer ${await newApiKey(app.db, ['admin'])}` }
  const document = JSON.parse(await generateOpenApiDocument()) as { paths: Record<string, Record<string, { requestBody?: { content: Json }, responses: Record<string, { headers?: Json }> }>> }
  const concrete = (path: string) => path.replace('{id}', '01900000-0000-7000-8000-000000000000').replace(/\{[a-z]+\}/g, 'under-the-black-flag')
  let checked = 0
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (operation.requestBody === undefined) continue
      const taken = method === 'patch' ? ['application/json', MERGE_PATCH] : ['application/json']
      t.same(Object.keys(operation.requestBody.content), taken, `${method} ${path} documents the body types it takes`)
      t.same(Object.keys(operation.responses['415']?.headers ?? {}).sort(), method === 'patch' ? ['accept', 'accept-patch'] : ['accept'], `${method} ${path} documents the 415's headers`)
      const refused = method === 'patch' ? ['text/plain', 'application/json-patch+json', 'application/xml'] : ['text/plain', MERGE_PATCH, 'application/x-www-form-urlencoded']
      for (const type of refused) {
        const res = await app.inject({ method: method.toUpperCase() as 'POST', url: concrete(path), headers: { ...admin, 'content-type': type }, payload: '{}' })
        const what = `${method} ${path} as ${type}`
        t.equal(res.statusCode, 415, what)
        t.equal(res.headers['content-type'], 'application/problem+json', what)
        t.equal(res.headers.accept, method === 'patch' ? `${MERGE_PATCH}, application/json` : 'application/json', `${what}: Accept`)
        t.equal(res.headers['accept-patch'], method === 'patch' ? `${MERGE_PATCH}, application/json` : undefined, `${what}: Accept-Patch`)
        t.match(res.json().detail, type, `${what}: the detail names the type sent`)
        checked++
      }
    }
  }
  t.ok(checked >= 30, `${checked} refusals checked`)
})
