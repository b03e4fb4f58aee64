import t from 'tap'
import { createApiKey } from '../../src/access/api-keys/api-keys.service.ts'
import { generateOpenApiDocument } from '../../src/cli.ts'
import { seedDemo } from '../../src/demo/seed-demo.ts'
import { newApiKey } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// Every string a client can send, at the largest size it can send it, made of the characters
// that make text processing slow: runs that a regular expression searches again from each
// position (slashes, braces, dashes), markup openers, escapes, spaces of every kind, emoji and
// scripts without spaces. Every string field of every operation's JSON body gets a million
// characters (a body may hold 4 MiB), every query parameter 3,000 (a request's headers are
// limited to 16 KB). Each must answer, as a 2xx or a 4xx problem, never a 5xx: a value that
// costs time faster than its length grows shows up as this file's time limit (the URL template
// check took minutes for a million `{` until eslint-plugin-regexp pointed at it; nothing else
// was found). Heavy (npm run test:heavy): some 13,500 requests, 70 s on PostgreSQL.

const RUNS = ['{', '}', '/', '-', '%', ' ', '\u00a0', '\u3000', '<', '>', 'a', '(', ')', '[', '"', '\\', ':', '&', '.', '@', '+', ',', '=', '\n', '\t',
  '\u{1F600}', 'あ', 'ไ', '<p', '<!--', '&#', '*', '_', '`', '#', '!', '|', '\'', 'a-', '{a', '%2']
const BODY_STRING = 1_000_000
const QUERY_STRING = 3_000

interface Schema { $ref?: string, type?: string, properties?: Record<string, Schema>, items?: Schema, anyOf?: Schema[] }
interface Operation { operationId: string, parameters?: Array<{ in: string, name: string }>, requestBody?: { content?: Record<string, { schema?: Schema }> } }
interface Document { paths: Record<string, Record<string, Operation>> }

t.test('a huge value of any kind in any field of any operation is answered, never with a 5xx', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_ANONYMOUS: '1000000', RATE_LIMIT_READ: '1000000', RATE_LIMIT_WRITE: '1000000' })
  await seedDemo(app.db)
  const admin = await newApiKey(app.db, ['admin'])
  const ghostKey = (await createApiKey(app.db, 'Ghost frontend', ['content:read'], 'ghost')).key
  const document = JSON.parse(await generateOpenApiDocument()) as Document & Record<string, unknown>
  const resolve = (schema: Schema | undefined): Schema | undefined => schema?.$ref === undefined
    ? schema
    : resolve(schema.$ref.split('/').slice(1).reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], document) as Schema)
  const takesString = (schema: Schema | undefined): boolean => {
    const resolved = resolve(schema)
    return resolved?.type === 'string' || (resolved?.anyOf ?? []).some(takesString)
  }

  const blog = await app.db.selectFrom('blogs').select(['slug', 'id']).orderBy('id').executeTakeFirstOrThrow()
  const author = await app.db.selectFrom('authors').select(['slug', 'id']).orderBy('id').executeTakeFirstOrThrow()
  const tag = await app.db.selectFrom('tags').select(['slug', 'id']).orderBy('id').executeTakeFirstOrThrow()
  const post = await app.db.selectFrom('posts').select(['slug', 'id']).where('blog_id', '=', blog.id).orderBy('id').executeTakeFirstOrThrow()
  const fills: Record<string, string> = { blog: blog.slug, author: author.slug, tag: tag.slug, slug: post.slug, site: blog.slug, id: post.id, delivery: '01900000-0000-7000-8000-000000000000' }
  // What a create needs besides the field under test, so that the field is checked among valid ones.
  const required = (path: string): Record<string, unknown> =>
    path === '/v1/posts' ? { blog: blog.slug, title: 'x' }
      : path === '/v1/blogs' ? { title: 'x' }
        : path === '/v1/authors' || path === '/v1/tags' ? { name: 'x' }
          : path === '/v1/webhooks' ? { url: 'https://hooks.example/x', events: ['post.published'] }
            : {}

  const failures: string[] = []
  const statuses = new Map<number, number>()
  const send = async (what: string, method: string, url: string, payload?: unknown) => {
    const res = await app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${admin}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) })
    })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    if (res.statusCode >= 500) failures.push(`${what}: ${res.statusCode} ${res.body.slice(0, 200)}`)
    else if (res.statusCode >= 400 && res.headers['content-type'] !== 'application/problem+json' && !url.includes('/ghost/')) failures.push(`${what}: ${res.statusCode} as ${res.headers['content-type']}`)
  }

  let fields = 0
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const ghost = path.includes('/ghost/')
      const url = path.replace(/\{(\w+)\}/g, (_whole, name: string) => fills[name] ?? 'x')
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in !== 'query' || parameter.name === 'key') continue
        fields++
        for (const run of RUNS) {
          const value = encodeURIComponent(run.repeat(Math.floor(QUERY_STRING / run.length)))
          await send(`${operation.operationId} ?${parameter.name}=${JSON.stringify(run)}…`, method.toUpperCase(), `${url}?${parameter.name}=${value}${ghost ? `&key=${ghostKey}` : ''}`)
        }
      }
      const body = resolve(operation.requestBody?.content?.['application/json']?.schema)
      for (const [name, property] of Object.entries(body?.properties ?? {})) {
        const resolved = resolve(property)
        const list = resolved?.type === 'array'
        if (!takesString(list ? resolved?.items : property)) continue
        fields++
        for (const run of RUNS) {
          const huge = run.repeat(Math.floor(BODY_STRING / run.length))
          await send(`${operation.operationId} ${name}=${JSON.stringify(run)}…`, method.toUpperCase(), url, { ...(method === 'post' ? required(path) : {}), [name]: list ? [huge] : huge })
        }
      }
    }
  }
  t.same(failures, [], 'every answer a 2xx or a 4xx problem')
  t.ok(fields > 100, `${fields} fields and parameters, ${RUNS.length} kinds of run each: ${JSON.stringify(Object.fromEntries(statuses))}`)
})
