import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { hasScope } from '../../access/auth.ts'
import { AuthorSchema } from '../../content/authors/authors.schemas.ts'
import { BlogSchema } from '../../content/blogs/blogs.schemas.ts'
import { IdOrSlugSchema, parseIdOrSlug, TimestampSchema } from '../../content/identifiers.ts'
import { PostSchema } from '../../content/posts/posts.schemas.ts'
import { TagSchema } from '../../content/tags/tags.schemas.ts'
import { AppError, notFound, problemResponses } from '../../http/errors.ts'
import { decodeCursor, encodeCursor, integerParam } from '../../http/pagination.ts'
import { listChanges } from './changes.repository.ts'
import { loadChangeData } from './change-data.ts'
import { findBlog } from '../../content/blogs/blogs.repository.ts'
import type { Audience } from '../../content/posts/posts.repository.ts'

const CHANGE_CURSOR = 'changes'
const ChangeCursorKey = z.tuple([z.string().regex(/^\d{1,19}$/)])
const TYPES = ['post', 'blog', 'author', 'tag'] as const

const ChangesQuerySchema = z.object({
  since: z.string().min(1).max(200).optional().describe('`meta.next_cursor` of the previous call; without it, from the beginning.'),
  limit: integerParam(1, 1000).default(100).describe('Changes per call, 1 to 1000.'),
  types: z.string().max(100).transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean))
    .pipe(z.array(z.enum(TYPES)).min(1)).optional().describe('Only these kinds: post, blog, author, tag (comma-separated).'),
  blog: IdOrSlugSchema.optional().describe('Only changes of this blog and its posts.'),
  wait: integerParam(0, 30).default(0)
    .describe('Seconds to wait for a change when there is none yet (long poll), up to 30.'),
  visibility: z.enum(['public', 'all']).default('public')
    .describe('public: what public readers saw change; all (needs content:preview): every change, drafts included.')
}).strict()

const ChangeSchema = z.object({
  seq: z.number().int().describe('Position in the log; increasing.'),
  type: z.enum(TYPES),
  id: z.uuid(),
  op: z.enum(['upsert', 'delete']).describe('upsert: store `data`; delete: forget the resource.'),
  event: z.string().nullable().describe('What it meant, e.g. post.published, post.unpublished.'),
  occurred_at: TimestampSchema,
  data: z.union([PostSchema, BlogSchema, AuthorSchema, TagSchema]).optional().describe('The resource as the API shows it now; absent for deletes.')
}).meta({ id: 'Change' })

const ChangePageSchema = z.object({
  data: z.array(ChangeSchema),
  meta: z.object({ next_cursor: z.string().describe('Pass as `since` next time; always present, also when nothing changed.') })
}).meta({ id: 'ChangePage' })

export const changesRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/v1/changes', {
    config: { access: 'public' },
    schema: {
      tags: ['Sync'],
      operationId: 'listChanges',
      summary: 'Changes since a cursor',
      description: 'The change log, in order: replaying it from the start yields exactly what the API lists now. ' +
        'Keep `meta.next_cursor` and pass it as `since`; with `wait`, the call returns as soon as something changes.',
      querystring: ChangesQuerySchema,
      response: { 200: ChangePageSchema.describe('The next changes.'), ...problemResponses(400, 403, 404) }
    }
  }, async (request, reply) => {
    const query = request.query
    if (query.visibility === 'all' && !hasScope(request.apiKey, 'content:preview')) {
      throw new AppError(403, 'forbidden', 'visibility=all needs a key with the content:preview scope.')
    }
    const afterSeq = query.since === undefined ? '0' : decodeCursor(CHANGE_CURSOR, query.since, ChangeCursorKey)[0]
    let blogId: string | undefined
    if (query.blog !== undefined) {
      const key = parseIdOrSlug(query.blog)
      const blog = key === undefined ? undefined : await findBlog(app.db, key)
      if (blog === undefined) throw notFound(`Blog "${query.blog}"`)
      blogId = blog.id
    }
    const audience: Audience = query.visibility === 'all' ? 'preview' : 'public'
    const changeQuery = { afterSeq, limit: query.limit, types: query.types ?? [...TYPES], blogId, visibility: query.visibility }

    let rows = await listChanges(app.db, changeQuery)
    const deadline = Date.now() + query.wait * 1000
    while (rows.length === 0 && Date.now() < deadline) {
      const abort = new AbortController()
      reply.raw.once('close', () => abort.abort())
      await app.changeSignal.wait(deadline - Date.now(), abort.signal)
      if (abort.signal.aborted) break
      rows = await listChanges(app.db, changeQuery)
    }

    const data = await loadChangeData(app.db, app.config, rows.filter((row) => row.op === 'upsert'), audience)
    const changes = rows.flatMap((row) => {
      const op = (query.visibility === 'public' ? row.public_op : row.op) ?? row.op
      const resource = data.get(row.entity_id)
      // An upsert of something no longer visible is followed by the change that hid it.
      if (op === 'upsert' && resource === undefined) return []
      return [{
        seq: Number(row.seq),
        type: row.entity_type,
        id: row.entity_id,
        op,
        event: row.event,
        occurred_at: row.occurred_at.toISOString(),
        ...(op === 'upsert' ? { data: resource as z.infer<typeof ChangeSchema>['data'] } : {})
      }]
    })
    const last = rows.at(-1)?.seq ?? afterSeq
    reply.header('cache-control', query.visibility === 'all' ? 'private, no-store' : 'no-cache')
    return { data: changes, meta: { next_cursor: encodeCursor(CHANGE_CURSOR, [last]) } }
  })
}
