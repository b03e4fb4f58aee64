import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { setEtagVersion, setSurrogateKeys } from '../../http/caching.ts'
import { notFound, problemResponses } from '../../http/errors.ts'
import { pageByKey } from '../../http/pagination.ts'
import { lookUp, redirectRenamed } from '../lookup.ts'
import { toAuthor } from './authors.mapper.ts'
import { findAuthor, listAuthors } from './authors.repository.ts'
import {
  AuthorPageSchema, AuthorParamsSchema, AuthorResponseSchema, AuthorSchema, CreateAuthorSchema, DeleteAuthorQuerySchema,
  ListAuthorsQuerySchema, UpdateAuthorSchema
} from './authors.schemas.ts'
import { AppError } from '../../http/errors.ts'
import { parseIdOrSlug, pickDefined } from '../identifiers.ts'
import { postChangesFor, registerResourceWrites } from '../resource-writes.ts'
import { postIdsOf, reassignAuthor, removeFromPosts } from '../posts/posts.writes.repository.ts'

const AUTHOR_CURSOR = 'authors'

export const authorsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/v1/authors', {
    config: { access: 'public' },
    schema: {
      tags: ['Authors'],
      operationId: 'listAuthors',
      summary: 'List authors',
      description: 'Every author, in slug order, a page at a time, with the time of their latest post.',
      querystring: ListAuthorsQuerySchema,
      response: { 200: AuthorPageSchema.describe('A page of authors.'), ...problemResponses(400) }
    }
  }, async (request, reply) => {
    const page = await pageByKey(request, app.config.publicBaseUrl, AUTHOR_CURSOR, request.query,
      (afterSlug, limit) => listAuthors(app.db, { limit, afterSlug }), (row) => row.slug)
    setSurrogateKeys(reply, ['authors:list', ...page.items.map((row) => `author:${row.id}`)])
    return { data: page.items.map(toAuthor), meta: page.meta, links: page.links }
  })

  app.get('/v1/authors/:author', {
    config: { access: 'public' },
    schema: {
      tags: ['Authors'],
      operationId: 'getAuthor',
      summary: 'Get an author',
      description: 'One author, by id or slug: what a profile page needs. A renamed slug answers 308.',
      params: AuthorParamsSchema,
      response: {
        200: AuthorResponseSchema.describe('The author.'),
        308: z.undefined().describe('Renamed: `Location` has the canonical URL.'),
        ...problemResponses(400, 404)
      }
    }
  }, async (request, reply) => {
    const author = await lookUp(app.db, 'author', request.params.author, (key) => findAuthor(app.db, key))
    if (author === undefined) throw notFound(`Author "${request.params.author}"`)
    if ('moved' in author) return redirectRenamed(request, reply, request.params.author, author.moved.slug)
    setSurrogateKeys(reply, [`author:${author.found.id}`])
    setEtagVersion(reply, author.found.version)
    return { data: toAuthor(author.found) }
  })
}

export const authorWritesRoutes: FastifyPluginAsyncZod = async (app) => {
  registerResourceWrites(app, {
    entity: 'author',
    table: 'authors',
    path: '/v1/authors',
    param: 'author',
    tag: 'Authors',
    label: 'author',
    titleOf: (body) => body.name,
    createSchema: CreateAuthorSchema,
    updateSchema: UpdateAuthorSchema,
    deleteQuerySchema: DeleteAuthorQuerySchema,
    responseSchema: AuthorSchema,
    find: (db, key) => findAuthor(db, key),
    toApi: toAuthor,
    toColumns: (body) => pickDefined({
      slug: body.slug, name: body.name, bio: body.bio, avatar_url: body.avatar_url,
      links: body.links === undefined ? undefined : JSON.stringify(body.links)
    }),
    deleteDescription: 'An author credited on posts is a 409, unless the request says what to do: ' +
      '`reassign_posts_to=<author>` credits another author instead, `remove_from_posts=true` takes the byline off.',
    beforeDelete: async (tx, author, query) => {
      const postIds = await postIdsOf(tx, { authorId: author.id })
      if (postIds.length === 0) return []
      if (query.reassign_posts_to !== undefined) {
        const key = parseIdOrSlug(query.reassign_posts_to)
        const target = key === undefined ? undefined : await findAuthor(tx, key)
        if (target === undefined || target.id === author.id) {
          throw new AppError(422, 'unknown_reference', `reassign_posts_to names no other author: "${query.reassign_posts_to}".`,
            { errors: [{ path: 'query.reassign_posts_to', message: 'names no other author' }] })
        }
        const changes = await postChangesFor(tx, postIds, 'upsert')
        await reassignAuthor(tx, author.id, target.id)
        return changes
      }
      if (query.remove_from_posts === 'true') {
        const changes = await postChangesFor(tx, postIds, 'upsert')
        await removeFromPosts(tx, { authorId: author.id })
        return changes
      }
      throw new AppError(409, 'author_has_posts',
        `The author is credited on ${postIds.length} post(s). Say what to do: reassign_posts_to=<author> or remove_from_posts=true.`)
    }
  })
}
