import { execFile } from 'node:child_process'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { extractFromJson } from '@extractus/feed-extractor'
import { parseFeed } from 'feedsmith'
import Parser from 'rss-parser'
import t from 'tap'
import { seedDemo } from '../../src/demo/seed-demo.ts'
import { editorClient, publishNow, writeDraft } from '../../examples/editor-client.ts'
import { generateClientTypes, SPEC_FILE, TYPES_FILE } from '../../examples/generate-types.ts'
import { allPostsOfBlog, blogRss, breakingNews, headline, newsClient, postsTagged, readArticle } from '../../examples/news-client.ts'
import { atomViolations, jsonFeedViolations, rssViolations } from '../helpers/feed-rules.ts'
import { newApiKey } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// The API as a frontend team meets it, from the committed OpenAPI document only: types
// generated with openapi-typescript, the example client compiled by tsc --strict and run with
// openapi-fetch against a real server on a loopback port, and every feed URL the document
// lists read by independent parsers and held to its format's rules.

const run = promisify(execFile)

t.test('the committed client types are what openapi-typescript generates from the committed spec (npm run openapi)', async (t) => {
  t.equal(await generateClientTypes(await readFile(SPEC_FILE, 'utf8')), await readFile(TYPES_FILE, 'utf8'))
})

t.test('the example client, and the README\'s client snippet, compile with tsc --strict against the generated types', async (t) => {
  // The README's snippet is compiled as written, with its import pointed at the committed types.
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')
  const snippet = /## For frontend developers[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  t.ok(snippet?.includes("from './content-api.d.ts'"), 'the README has the snippet')
  const snippetFile = new URL('../../examples/readme-snippet.generated.ts', import.meta.url)
  await writeFile(snippetFile, (snippet ?? '').replace("from './content-api.d.ts'", "from '../openapi/openapi.d.ts'"))
  t.teardown(() => rm(snippetFile, { force: true }))
  const tsc = new URL('../../node_modules/typescript/bin/tsc', import.meta.url).pathname
  const { stdout, stderr } = await run(process.execPath, [tsc, '-p', new URL('../../examples/tsconfig.json', import.meta.url).pathname]).catch((error: { stdout: string, stderr: string }) => error)
  t.equal(`${stdout}${stderr}`, '', 'no type errors')
})

t.test('the example client and every feed the document lists, against a running server', async (t) => {
  const { app } = await buildTestApp(t, { PUBLIC_BASE_URL: '', RATE_LIMIT_ANONYMOUS: '100000' })
  await seedDemo(app.db)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  const base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  const client = newsClient(base)

  const posts = await allPostsOfBlog(client, 'under-the-black-flag')
  const direct = (await app.inject({ url: '/v1/blogs/under-the-black-flag/posts?limit=100&is_breaking=false' })).json().data
  t.same(posts.map((post) => post.id), direct.map((post: { id: string }) => post.id), 'following cursors gives every post, once, in order')
  t.ok(posts.length > 10, `${posts.length} posts over several pages`)
  t.ok(posts.every((post) => post.url.startsWith(`${base}/v1/`)), 'links follow the host the client called (no PUBLIC_BASE_URL)')
  t.match(headline(posts[0]!), /^\d{4}-\d{2}-\d{2} Under The Black Flag: .+ <http/)

  const article = await readArticle(client, 'under-the-black-flag', 'is-moscow-walking-back-is-intel-sharing-reports')
  t.match(article, { title: "Is Moscow Walking Back 'IS Intel-Sharing' Reports?", lead_image: { caption: /Kerry/ }, authors: [{ name: 'Joanna Paraszczuk' }] })
  t.ok(article.body_html.length > 1000)
  await t.rejects(readArticle(client, 'under-the-black-flag', 'no-such-post'), /404/, 'a typed error')
  t.ok((await breakingNews(client)).every((item) => item.is_breaking))
  // List parameters as the generated types have them (arrays), sent the way openapi-fetch sends them.
  const tagged = await postsTagged(client, ['islamic-state', 'central-asia'])
  const expected = (await app.inject({ url: '/v1/posts?tag=islamic-state,central-asia&formats=plaintext&limit=20' })).json().data
  t.same(tagged.map((post) => post.id), expected.map((post: { id: string }) => post.id), 'tag: [a, b] is tag=a,b')
  t.ok(tagged.length > 0 && tagged.every((post) => typeof post.body_text === 'string' && post.tags.some((tag) => ['islamic-state', 'central-asia'].includes(tag.slug))))
  t.ok(tagged.some((post) => post.tags.some((tag) => tag.slug === 'central-asia')) && tagged.some((post) => post.tags.some((tag) => tag.slug === 'islamic-state')), 'posts of either tag')
  t.same(rssViolations(await blogRss(client, 'under-the-black-flag')), [])

  // Every feed operation in the document, every format, read as partners read them.
  const spec = JSON.parse(await (await fetch(`${base}/openapi.json`)).text())
  const feedPaths = Object.entries<Record<string, { tags?: string[] }>>(spec.paths)
    .filter(([, item]) => item.get?.tags?.includes('Feeds')).map(([path]) => path)
  t.same(feedPaths.sort(), ['/v1/authors/{author}/feed', '/v1/blogs/{blog}/feed', '/v1/feeds/breaking', '/v1/feeds/latest', '/v1/tags/{tag}/feed'])
  const demo = { blog: 'under-the-black-flag', author: 'joanna-paraszczuk', tag: 'islamic-state' } as Record<string, string>
  const rssParser = new Parser()
  for (const path of feedPaths) {
    const url = `${base}${path.replace(/\{(\w+)\}/g, (_whole, name: string) => demo[name] ?? name)}`
    const [rss, atom, jsonFeed, compact] = await Promise.all(['rss', 'atom', 'jsonfeed', 'json'].map(async (format) => {
      const res = await fetch(`${url}?format=${format}&content=full`)
      t.equal(res.status, 200, `${path} ${format}`)
      return res.text()
    })) as [string, string, string, string]
    const ids = (JSON.parse(compact).data as Array<{ id: string, title: string }>)
    t.ok(ids.length > 0, `${path} has items`)

    t.same(rssViolations(rss), [], `${path} RSS rules`)
    t.same(atomViolations(atom), [], `${path} Atom rules`)
    t.same(jsonFeedViolations(jsonFeed), [], `${path} JSON Feed rules`)
    // Two independent parsers per format, each agreeing with the JSON API on the items.
    const titles = ids.map((item) => item.title)
    t.same((await rssParser.parseString(rss)).items.map((item) => item.title), titles, `${path} RSS via rss-parser`)
    t.same((parseFeed(rss).feed as { items: Array<{ title: string }> }).items.map((item) => item.title), titles, `${path} RSS via feedsmith`)
    t.same((await rssParser.parseString(atom)).items.map((item) => item.title), titles, `${path} Atom via rss-parser`)
    t.same((parseFeed(atom).feed as { entries: Array<{ title: { value: string, type: string } }> }).entries.map((entry) => entry.title.value), titles, `${path} Atom via feedsmith`)
    t.same((parseFeed(jsonFeed).feed as { items: Array<{ title: string }> }).items.map((item) => item.title), titles, `${path} JSON Feed via feedsmith`)
    t.same(extractFromJson(JSON.parse(jsonFeed)).entries?.map((entry) => entry.title), titles, `${path} JSON Feed via feed-extractor`)
  }
})

t.test('the editor example writes a draft and publishes it, the publish with no body, against a running server', async (t) => {
  const { app } = await buildTestApp(t, { PUBLIC_BASE_URL: '' })
  await seedDemo(app.db)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  const client = editorClient(`http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`, await newApiKey(app.db, ['content:write']))
  const draft = await writeDraft(client, 'under-the-black-flag', 'Filed from the desk', 'A **first** line.')
  t.equal(draft.status, 'draft')
  const published = await publishNow(client, draft.id)
  t.equal(published.status, 'published')
  t.ok(published.published_at !== null && Date.parse(published.published_at) <= Date.now(), 'published now')
})
