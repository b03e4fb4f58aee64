import t from 'tap'
import { generateOpenApiDocument } from '../../src/cli.ts'
import { seedDemo } from '../../src/demo/seed-demo.ts'
import { newApiKey } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// What each path takes, as HTTP says it (RFC 9110): a method a path does not take is a 405
// problem whose Allow names those it does (a 404 had told a client that sent PUT where PATCH
// goes that the post did not exist), and OPTIONS outside a CORS preflight answers 204 with Allow
// and, where PATCH is one, Accept-Patch (it was the CORS plugin's text/plain 400). What each
// path takes is read from the OpenAPI document, for every path in it.

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

t.test('every path: a method it does not take is a 405 with Allow; OPTIONS says the same; both as the document has it', async (t) => {
  const { app } = await buildTestApp(t)
  await seedDemo(app.db)
  const admin = { authorization: `Bearer ${await newApiKey(app.db, ['admin'])}` }
  const document = JSON.parse(await generateOpenApiDocument()) as { paths: Record<string, Record<string, unknown>> }
  const post = (await app.inject({ url: '/v1/blogs/under-the-black-flag/posts/is-moscow-walking-back-is-intel-sharing-reports' })).json().data as { id: string }
  const concrete = (path: string) => path.replace('{id}', post.id).replace('{site}', 'under-the-black-flag').replace('{slug}', 'is-moscow-walking-back-is-intel-sharing-reports')
    .replace(/\{(blog|author|tag)\}/g, (_, kind: string) => ({ blog: 'under-the-black-flag', author: 'joanna-paraszczuk', tag: 'russia' })[kind] as string)
  let refused = 0
  for (const [path, item] of Object.entries(document.paths)) {
    const taken = METHODS.filter((method) => item[method.toLowerCase()] !== undefined)
    const allow = [...taken.flatMap((method) => method === 'GET' ? ['GET', 'HEAD'] : [method]), 'OPTIONS']
    const url = concrete(path)
    const options = await app.inject({ method: 'OPTIONS', url })
    t.equal(options.statusCode, 204, `OPTIONS ${url}`)
    t.same(options.headers.allow?.toString().split(', ').sort(), [...allow].sort(), `OPTIONS ${url}: Allow`)
    t.equal(options.headers['accept-patch'], taken.includes('PATCH') ? 'application/merge-patch+json, application/json' : undefined, `OPTIONS ${url}: Accept-Patch`)
    for (const method of METHODS.filter((method) => !taken.includes(method))) {
      // A body where the method has one, and one that would be refused (empty JSON): the method is what is wrong.
      const res = await app.inject({ method, url, headers: { ...admin, 'content-type': 'application/json' }, payload: method === 'GET' ? undefined : '' })
      t.equal(res.statusCode, 405, `${method} ${url}`)
      t.equal(res.headers['content-type'], 'application/problem+json', `${method} ${url}: a problem`)
      t.same(res.headers.allow?.toString().split(', ').sort(), [...allow].sort(), `${method} ${url}: Allow`)
      t.equal(res.json().code, 'method_not_allowed')
      refused++
    }
  }
  t.ok(refused >= 150, `${refused} methods refused`)
})

t.test('a path no route takes stays a 404 problem, for OPTIONS too; a CORS preflight is still the CORS plugin\'s', async (t) => {
  const { app } = await buildTestApp(t, { CORS_ORIGINS: 'https://frontend.example' })
  for (const method of ['GET', 'PUT', 'OPTIONS'] as const) {
    const res = await app.inject({ method, url: '/v1/nothing-here' })
    t.equal(res.statusCode, 404, method)
    t.equal(res.headers['content-type'], 'application/problem+json', `${method}: a problem`)
    t.equal(res.headers.allow, undefined)
  }
  // A browser client can read a 405: it carries the CORS headers.
  const cross = await app.inject({ method: 'PUT', url: '/v1/blogs', headers: { origin: 'https://frontend.example' } })
  t.equal(cross.statusCode, 405)
  t.equal(cross.headers['access-control-allow-origin'], 'https://frontend.example')
  t.match(cross.headers['access-control-expose-headers'], /Allow/)
  const preflight = await app.inject({ method: 'OPTIONS', url: '/v1/posts', headers: { origin: 'https://frontend.example', 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization, content-type' } })
  t.equal(preflight.statusCode, 204)
  t.equal(preflight.headers['access-control-allow-origin'], 'https://frontend.example')
  t.match(preflight.headers['access-control-allow-methods'], /PATCH/)
})
