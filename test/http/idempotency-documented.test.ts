import t from 'tap'
import { generateOpenApiDocument } from '../../src/cli.ts'
import { newApiKey, newBlog, newPost } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// The OpenAPI document names the Idempotency-Key header on exactly the POSTs that honour it, so
// that typed clients offer it there and nowhere else: each documented one, sent twice with the
// same key, answers the second time with the first answer and Idempotent-Replayed; each other
// POST ignores the header and does its work again.

interface Operation { operationId: string, parameters?: Array<{ in: string, name: string }> }

t.test('the POSTs that document Idempotency-Key replay a retry; the others ignore the header', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_WRITE: '100000' })
  const admin = await newApiKey(app.db, ['admin'])
  const blog = await newBlog(app.db, { slug: 'desk' })
  const post = await newPost(app.db, { blogId: blog.id, slug: 'draft', status: 'draft' })
  const document = JSON.parse(await generateOpenApiDocument()) as { paths: Record<string, Record<string, Operation>> }
  // A request each POST accepts, by operation.
  const requests: Record<string, { url: string, body?: unknown }> = {
    createPost: { url: '/v1/posts', body: { blog: 'desk', title: 'Retried' } },
    publishPost: { url: `/v1/posts/${post.id}/publish` },
    unpublishPost: { url: `/v1/posts/${post.id}/unpublish` },
    createBlog: { url: '/v1/blogs', body: { title: 'Retried blog' } },
    createAuthor: { url: '/v1/authors', body: { name: 'Retried Author' } },
    createTag: { url: '/v1/tags', body: { name: 'Retried tag' } },
    createWebhook: { url: '/v1/webhooks', body: { url: 'https://hooks.example.com/in', events: ['post.published'] } },
    createApiKey: { url: '/v1/api-keys', body: { name: 'Retried key', scopes: ['content:read'] } },
    retryWebhookDelivery: { url: '/v1/webhooks/01900000-0000-7000-8000-000000000000/deliveries/01900000-0000-7000-8000-000000000000/retry' }
  }
  const posts = Object.values(document.paths).flatMap((item) => item.post === undefined ? [] : [item.post])
  t.same(posts.map((operation) => operation.operationId).filter((id) => requests[id] === undefined), [], 'a request for every POST')
  let documented = 0
  for (const operation of posts) {
    const takesKey = (operation.parameters ?? []).some((parameter) => parameter.in === 'header' && parameter.name === 'Idempotency-Key')
    if (takesKey) documented++
    const request = requests[operation.operationId]!
    const send = () => app.inject({
      method: 'POST',
      url: request.url,
      headers: { authorization: `Bearer ${admin}`, 'idempotency-key': `retry-${operation.operationId}`, ...(request.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(request.body === undefined ? {} : { payload: JSON.stringify(request.body) })
    })
    const first = await send()
    const second = await send()
    if (takesKey) {
      t.ok(first.statusCode < 300, `${operation.operationId}: ${first.statusCode} ${first.body.slice(0, 120)}`)
      t.equal(second.headers['idempotent-replayed'], 'true', `${operation.operationId}: documented, and replayed`)
      t.equal(second.body, first.body, `${operation.operationId}: the first answer again`)
    } else {
      t.equal(second.headers['idempotent-replayed'], undefined, `${operation.operationId}: not documented, and not replayed (${first.statusCode}, ${second.statusCode})`)
      if (first.statusCode === 201) t.not(second.body, first.body, `${operation.operationId}: done again`)
    }
  }
  t.equal(documented, 6, 'six POSTs take the key')
})
