/* global fetch */
// Runs in the frontend's page (test/browser/cross-origin.ts adds it): plain JavaScript, since the
// project's TypeScript has no DOM types. Each request, its status, and the headers the page's
// JavaScript can read.

const NAMES = ['ETag', 'Last-Modified', 'X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Location', 'Idempotent-Replayed',
  'WWW-Authenticate', 'Content-Version', 'Retry-After', 'Content-Type', 'Accept', 'Accept-Patch']

async function read (what, url, init) {
  const response = await fetch(url, init)
  const headers = {}
  for (const name of NAMES) headers[name] = response.headers.get(name)
  return { what, status: response.status, headers }
}

globalThis.crossOriginRequests = async ({ api, writer, ghostKey }) => {
  const post = `${api}/v1/blogs/under-the-black-flag/posts/is-moscow-walking-back-is-intel-sharing-reports`
  const create = { method: 'POST', headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json', 'idempotency-key': 'browser-1' }, body: JSON.stringify({ blog: 'under-the-black-flag', title: 'From a web CMS' }) }
  const results = [
    await read('anonymous read', post),
    // The browser's cache revalidates with the ETag it kept (If-None-Match) and hands the page its copy.
    await read('the same, revalidated by the browser', post, { cache: 'no-cache' }),
    await read('keyed read (preflighted)', `${api}/v1/posts?limit=1&status=draft`, { headers: { authorization: `Bearer ${writer}` } }),
    await read('create', `${api}/v1/posts`, create),
    await read('create again', `${api}/v1/posts`, create),
    await read('bad key', `${api}/v1/posts`, { headers: { authorization: 'Bearer nokey1_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' } }),
    await read('Ghost', `${api}/ghost/api/content/posts/?key=${ghostKey}&limit=1`, { headers: { 'accept-version': 'v6.0' } })
  ]
  // An editor's tool changing one field of the lead image, as RFC 7396 labels it; then a body type
  // the API does not take, whose 415 says in Accept-Patch what it does.
  const { data: { id } } = await (await fetch(post)).json()
  const patch = (type, body) => ({ method: 'PATCH', headers: { authorization: `Bearer ${writer}`, 'content-type': type }, body })
  results.push(await read('merge patch', `${api}/v1/posts/${id}`, patch('application/merge-patch+json', JSON.stringify({ lead_image: { caption: 'Changed in a web CMS' } }))))
  results.push(await read('unsupported body type', `${api}/v1/posts/${id}`, patch('application/json-patch+json', '[]')))
  for (let i = 0; i < 40; i++) {
    const answer = await read('anonymous until limited', `${api}/v1/blogs?page=${i}`)
    if (answer.status === 429) { results.push(answer); break }
  }
  return results
}
