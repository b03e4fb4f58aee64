import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import { withListParameters, withOptionalBodies, withPlainSchemas, withStandardResponses } from './openapi-document.ts'
import { declareAccess } from './route-access.ts'

export const OPENAPI_PATH = '/openapi.json'
export const DOCS_PATH = '/docs'

const DOCS_CSP = [
  "default-src 'self'", "base-uri 'self'", "font-src 'self' data:", "img-src 'self' data:", "object-src 'none'",
  "script-src 'self'", "script-src-attr 'none'", "style-src 'self' 'unsafe-inline'", "connect-src 'self'",
  "form-action 'self'", "frame-ancestors 'none'"
].join('; ')

const API_DESCRIPTION = [
  'Headless content API for a network of news blogs: posts, blogs, authors, tags and feeds.',
  '',
  'Conventions: JSON fields are snake_case; a resource comes as `{ "data": ... }`, a list as',
  '`{ "data": [...], "meta": { "next_cursor" }, "links": { "self", "next" } }` with keyset',
  '(cursor) pagination; every error is RFC 9457 `application/problem+json`.'
].join('\n')

/**
 * The OpenAPI 3.1 document is generated from the routes' Zod schemas (named components come
 * from `.meta({ id })`), served at /openapi.json and rendered at /docs by Swagger UI, whose
 * assets are bundled in the package: the page works offline and under a strict CSP.
 */
type OpenApiDocument = ReturnType<typeof jsonSchemaTransformObject>

/**
 * The Zod transform emits an input and an output variant of every named schema; drop the
 * components nothing refers to, so the document lists only shapes that occur in the API.
 */
function withoutUnusedSchemas (document: OpenApiDocument): OpenApiDocument {
  const schemas = (document as { components?: { schemas?: Record<string, unknown> } }).components?.schemas
  if (schemas === undefined) return document
  const used = new Set<string>()
  const visit = (value: unknown) => {
    const text = JSON.stringify(value)
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      if (name !== undefined && !used.has(name)) {
        used.add(name)
        visit(schemas[name])
      }
    }
  }
  visit((document as { paths?: unknown }).paths)
  for (const name of Object.keys(schemas)) if (!used.has(name)) delete schemas[name]
  return document
}

/**
 * A redirect has no body, only a Location; the Zod transform cannot say so (a route declares
 * 3xx as z.undefined()), so the document gets the header here.
 */
function withRedirectHeaders (document: OpenApiDocument): OpenApiDocument {
  const paths = (document as { paths?: Record<string, Record<string, { responses?: Record<string, Record<string, unknown>> }>> }).paths ?? {}
  for (const operation of Object.values(paths).flatMap((item) => Object.values(item))) {
    for (const [status, response] of Object.entries(operation.responses ?? {})) {
      if (!status.startsWith('3')) continue
      delete response.content
      response.headers = { Location: { description: 'Where the resource now lives.', schema: { type: 'string' } } }
    }
  }
  return document
}

async function openApi (app: FastifyInstance, { version }: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Content API', version, description: API_DESCRIPTION },
      // Relative: the document is served by the API it describes, wherever that runs; a client
      // generated from the committed copy sets its base URL (examples/).
      servers: [{ url: '/', description: 'The server this document was fetched from.' }],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key, `Authorization: Bearer <prefix>_<secret>`. Scopes: content:read (partners), ' +
              'content:preview (drafts and scheduled posts), content:write (editors\' tools), admin (keys and webhooks); ' +
              'each grants the ones before it. Published content needs no key unless PUBLIC_READ=false.'
          },
          ghostContentKey: {
            type: 'apiKey',
            in: 'query',
            name: 'key',
            description: 'A Ghost Content API key (26 hex characters, read-only), for the Ghost compatibility routes.'
          }
        }
      },
      tags: [
        { name: 'Posts', description: 'Articles: lists with filters and search, single posts with their full body.' },
        { name: 'Blogs', description: 'The publications of the network.' },
        { name: 'Authors', description: 'Bylines: profile data and the time of their latest post.' },
        { name: 'Tags', description: 'Topics: what a topic page needs.' },
        { name: 'Feeds', description: 'Latest-post feeds as JSON, RSS 2.0, Atom 1.0 and JSON Feed 1.1.' },
        { name: 'Sitemaps', description: 'sitemaps.org sitemaps and Google News sitemaps of the public, indexable posts, at their website addresses.' },
        { name: 'Sync', description: 'The change log: stay in sync without downloading everything again.' },
        { name: 'Webhooks', description: 'Signed pushes of content events to partners, with retries and a delivery log (admin).' },
        { name: 'API keys', description: 'Keys and their scopes (admin).' },
        { name: 'Operations', description: 'Probes for load balancers and orchestrators.' },
        { name: 'Ghost compatibility', description: 'Ghost\'s Content API (v5, v6) over the same content, for Ghost frontends and the official @tryghost/content-api client: `/sites/{site}/ghost/api/content/...` is one blog as a Ghost site, `/ghost/api/content/...` the whole network. Ghost keys (`?key=`), NQL filters, page numbers and Ghost\'s error format.' }
      ]
    },
    // Each operation carries its access rule (x-access), from which withStandardResponses adds
    // the statuses every operation of that kind can answer, and whether it takes an
    // Idempotency-Key (x-idempotent), from which it adds the header and what comes with it.
    transform: (input) => {
      const output = jsonSchemaTransform(input)
      const config = (input.route as { config?: { access?: string, idempotent?: boolean } } | undefined)?.config
      if (config?.access === undefined || output.schema === undefined) return output
      return { ...output, schema: { ...output.schema, 'x-access': config.access, ...(config.idempotent === true ? { 'x-idempotent': true } : {}) } }
    },
    transformObject: (document) => withPlainSchemas(withListParameters(withOptionalBodies(withStandardResponses(
      withRedirectHeaders(withoutUnusedSchemas(jsonSchemaTransformObject(document))) as Record<string, unknown>)))) as OpenApiDocument
  })

  // The reference pages and their assets are for anyone, with or without a key.
  declareAccess(app, (route) => route.url === DOCS_PATH || route.url.startsWith(`${DOCS_PATH}/`), 'none')
  await app.register(swaggerUi, {
    routePrefix: DOCS_PATH,
    staticCSP: true,
    // Only this origin, nothing else: no fonts or styles from other hosts, no online validator.
    // Swagger UI sets style attributes at run time, hence 'unsafe-inline' for styles (never scripts).
    transformStaticCSP: () => DOCS_CSP,
    uiConfig: {
      url: OPENAPI_PATH,
      // The default would send the document to an online validator: no outside calls.
      validatorUrl: null,
      deepLinking: true,
      displayOperationId: true
    } as Record<string, unknown>
  })

  app.get(OPENAPI_PATH, { config: { access: 'none' }, schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=60')
    return app.swagger()
  })
}

// Registered before the routes: @fastify/swagger collects each route's schema as it is added.
export const openApiPlugin = fp(openApi, { name: 'openapi', dependencies: ['core', 'access'] })
