import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { requireScope } from '../../access/auth.ts'
import { BLOGS } from '../../content/addressing/addressables.ts'
import { findOrNotFound } from '../../content/addressing/find-or-redirect.ts'
import { linksFor } from '../../content/common/site.ts'
import { problemResponses } from '../../http/errors.ts'
import { ChangePageSchema, ChangesQuerySchema } from './changes.schemas.ts'
import { readChanges } from './changes.service.ts'
import { routePlugin } from '../../http/route-plugin.ts'

const changesPlugin: FastifyPluginAsyncZod = async (app) => {
  app.get('/v1/changes', {
    // A long poll answers when something changes, so two identical ones must never share a
    // computation (or a stored answer).
    // The feed follows the primary's log: a long poll woken by a notification reads it at once.
    config: { access: 'public', responseCache: false, readsFrom: 'primary' },
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
    const { query } = request
    if (query.visibility === 'all') requireScope(request, 'content:preview', 'visibility=all')
    const blog = query.blog === undefined ? undefined : await findOrNotFound(app.db, BLOGS, query.blog)
    const abort = new AbortController()
    reply.raw.once('close', () => abort.abort())
    const page = await readChanges({ db: app.db, changeSignal: app.changeSignal, links: linksFor(request) }, query, blog?.id, abort.signal)
    reply.header('cache-control', query.visibility === 'all' ? 'private, no-store' : 'no-cache')
    return page
  })
}

export const changesRoutes = routePlugin('changes-routes', changesPlugin, ['change-log'])
