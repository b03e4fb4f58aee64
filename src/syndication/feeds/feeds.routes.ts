import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { latestPostChangeTime, type LatestPostChange, type PostListOwner } from '../../changes/change-log.repository.ts'
import { feedKey, postListKeys } from '../../changes/surrogate-keys.ts'
import { findOrRedirect, RenamedResponse } from '../../content/addressing/find-or-redirect.ts'
import { referenceIds } from '../../content/addressing/reference-ids.ts'
import type { AuthorRow } from '../../content/authors/authors.repository.ts'
import type { BlogRow } from '../../content/blogs/blogs.repository.ts'
import { POST_OWNERS, ownerRef, type PostOwner } from '../../content/posts/post-owners.ts'
import { listFeedItemsAsJson, listPosts, type FeedItemJsonRow, type PostRow } from '../../content/posts/posts.repository.ts'
import { listOwners, resolveOwners, type ListScope } from '../../content/posts/posts.service.ts'
import type { TagRow } from '../../content/tags/tags.repository.ts'
import { setLastModified, setSurrogateKeys } from '../../http/caching.ts'
import { problemResponses } from '../../http/errors.ts'
import { replaceQueryParam } from '../../http/query-string.ts'
import { blogApiUrl, blogWebsite, linksFor } from '../../content/common/site.ts'
import { toFeedItem } from './feed-items.ts'
import { CONTENT_TYPES, feedUrl, negotiateFormat, renderFeed } from './feed-render.ts'
import { webSubTopics } from './websub-topics.ts'
import { FeedQuerySchema, JsonFeed11Schema, JsonFeedSchema, type FeedFormat, type FeedQuery } from './feeds.schemas.ts'
import { routePlugin } from '../../http/route-plugin.ts'
import { arrayPieces, jsonPieces } from '../../http/serialization.ts'

/** What one feed is: its name (for its surrogate key), how it introduces itself, and what it lists. */
interface FeedScope {
  name: string
  title: string
  description: string
  /** Where readers of this feed go (its website); the network's website, or the API's page, when unset. */
  homeUrl?: string | undefined
  /** A blog's language; network, author and tag feeds mix languages unless `language=` says. */
  language?: string | undefined
  scope: ListScope
  breakingOnly?: boolean
  owner?: PostListOwner
  /** The feed's address as the WebSub publisher pings it: the owner's by its current slug. */
  topicPath: string
}

const FEED_RESPONSES = {
  200: {
    description: 'The feed, in the format asked for.',
    content: {
      'application/json': { schema: JsonFeedSchema },
      'application/rss+xml': { schema: z.string().describe('RSS 2.0') },
      'application/atom+xml': { schema: z.string().describe('Atom 1.0') },
      'application/feed+json': { schema: JsonFeed11Schema }
    }
  },
  ...RenamedResponse,
  ...problemResponses(400, 404)
}

const FEED_DESCRIPTION = 'The newest public posts, as compact JSON, RSS 2.0, Atom 1.0 or JSON Feed 1.1 (`format=` or the Accept header). ' +
  'Takes the list filters (blog, author, tag, language), so "this author in this tag" is one URL.'

type FeedIntro = Pick<FeedScope, 'title' | 'description' | 'language'> & { blog?: BlogRow }

/** How an owner's feed introduces itself; `row` is what the owner's address found (POST_OWNERS). */
function intro<Row> (summary: string, describe: (row: Row) => FeedIntro) {
  return { summary, describe: (row: unknown) => describe(row as Row) }
}

const OWNER_FEEDS: Record<PostOwner['entity'], ReturnType<typeof intro>> = {
  blog: intro('A blog\'s feed', (blog: BlogRow) => ({ title: blog.title, description: blog.description, language: blog.language, blog })),
  author: intro('An author\'s feed', (author: AuthorRow) => ({ title: `Posts by ${author.name}`, description: author.bio || `Posts by ${author.name}.` })),
  tag: intro('A tag\'s feed', (tag: TagRow) => ({ title: `Posts tagged ${tag.name}`, description: tag.description || `Posts tagged ${tag.name}.` }))
}

const feedsPlugin: FastifyPluginAsyncZod = async (app) => {
  const config = app.config

  async function sendFeed (request: FastifyRequest, reply: FastifyReply, query: FeedQuery, feed: FeedScope) {
    const format = query.format ?? negotiateFormat(request.headers.accept)
    const full = query.content === 'full'
    const owners = await resolveOwners(referenceIds(request), query, feed.scope)
    const filter = { ...owners, language: query.language, ...(feed.breakingOnly === true ? { isBreaking: true } : {}) }
    // Whose posts alone the feed can list: its owner's, or those its filter names (`?tag=x`).
    const listedOwners = feed.owner !== undefined ? [feed.owner] : listOwners(filter)
    // Last-Modified must move forward even when the newest item is unpublished, so it also
    // counts the newest change of a post of those owners (of any post, when there are none):
    // those changes alone purge the feed (surrogate-keys.ts). Each row of the page carries it.
    const listing = { filter, sort: 'newest', limit: query.limit, withBody: full, audience: 'public', withLatestPostChange: listedOwners } as const
    const links = linksFor(request)
    const self = new URL(request.url, links.apiBase)
    const requestedUrl = self.toString()
    self.search = replaceQueryParam(self.search, 'format')
    const selfUrl = self.toString()
    const headers = async (rows: ReadonlyArray<{ updated_at: Date } & LatestPostChange>) => {
      // A page with no rows has no row to carry it: then it is asked for alone.
      const latestChange = rows.length > 0 ? rows[0]?.latest_post_change : await latestPostChangeTime(app.db, listedOwners)
      const updated = new Date(Math.max(0, latestChange?.getTime() ?? 0, ...rows.map((row) => row.updated_at.getTime())))
      setLastModified(reply, updated)
      setSurrogateKeys(reply, [feedKey(feed.name), ...postListKeys(listedOwners)])
      reply.header('vary', 'Accept')
      return updated
    }
    if (format === 'json') {
      // The items as PostgreSQL writes them (feedItemJson; toFeedItem stays their definition),
      // but with the article: its HTML's relative links are resolved (absolute-urls.ts) in JavaScript.
      const fullItems = async () => (await listPosts(app.db, listing) as Array<PostRow & LatestPostChange>)
        .map((row) => ({ json: JSON.stringify(toFeedItem(row, links, true)), updated_at: row.updated_at, latest_post_change: row.latest_post_change }))
      const items = full ? await fullItems() : await listFeedItemsAsJson(app.db, listing, links) as Array<FeedItemJsonRow & LatestPostChange>
      await headers(items)
      const bytes = jsonPieces(reply, ['{"data":', ...arrayPieces(items.map((item) => item.json)), `,"meta":${JSON.stringify({ title: feed.title, feed_url: selfUrl })}}`], JsonFeedSchema)
      return reply.type(CONTENT_TYPES.json).send(bytes)
    }
    const rows = await listPosts(app.db, listing) as Array<PostRow & LatestPostChange>
    const updated = await headers(rows)
    const meta = {
      title: feed.title,
      description: feed.description,
      selfUrl,
      requestedUrl: query.format === format ? requestedUrl : undefined,
      homeUrl: feed.homeUrl ?? config.site.website ?? selfUrl,
      language: query.language ?? feed.language,
      updated,
      ttlMinutes: config.feeds.ttlMinutes,
      hubUrl: pingedTopic(feed, selfUrl, format) ? config.feeds.websubHub : undefined
    }
    // WebSub discovery also works from the HTTP headers alone (WebSub 4).
    if (meta.hubUrl !== undefined) reply.header('link', `<${meta.hubUrl}>; rel="hub", <${feedUrl(meta, format)}>; rel="self"`)
    return reply.type(CONTENT_TYPES[format]).send(renderFeed(format, meta, rows, links, full))
  }

  /**
   * Whether the hub is told of this feed's updates: WebSub's publisher pings each topic it names
   * the hub for, and ours pings only feeds at their own address (webSubTopics). A feed filtered
   * by query (`?tag=x`, `?limit=5`) or addressed by id is a topic no one pings: naming the hub
   * there would leave a subscriber waiting for pushes that never come, so it is left to poll.
   */
  const pingedTopic = (feed: FeedScope, selfUrl: string, format: Exclude<FeedFormat, 'json'>) =>
    config.feeds.websubHub !== undefined && config.publicBaseUrl !== undefined &&
    webSubTopics(config.publicBaseUrl, feed.topicPath).includes(feedUrl({ selfUrl }, format))

  // The format comes from the Accept header when `format=` is not given: the response cache keys on it.
  const common = { config: { access: 'public' as const, negotiates: negotiateFormat } }

  app.get('/v1/feeds/latest', {
    ...common,
    schema: { tags: ['Feeds'], operationId: 'getLatestFeed', summary: 'Latest posts feed', description: FEED_DESCRIPTION, querystring: FeedQuerySchema, response: FEED_RESPONSES }
  }, async (request, reply) => sendFeed(request, reply, request.query, {
    name: 'latest', title: 'Latest Posts', description: 'The newest posts from every blog.', scope: {}, topicPath: '/v1/feeds/latest'
  }))

  app.get('/v1/feeds/breaking', {
    ...common,
    schema: { tags: ['Feeds'], operationId: 'getBreakingFeed', summary: 'Breaking news feed', description: FEED_DESCRIPTION, querystring: FeedQuerySchema, response: FEED_RESPONSES }
  }, async (request, reply) => sendFeed(request, reply, request.query, {
    name: 'breaking', title: 'Breaking News', description: 'Breaking news from every blog.', scope: {}, breakingOnly: true, topicPath: '/v1/feeds/breaking'
  }))

  for (const owner of POST_OWNERS) {
    const { summary, describe } = OWNER_FEEDS[owner.entity]
    app.get(`${owner.path}/feed`, {
      ...common,
      schema: {
        tags: ['Feeds', owner.openApiTag], operationId: `get${owner.name}Feed`, summary, description: FEED_DESCRIPTION,
        params: owner.paramsSchema, querystring: FeedQuerySchema, response: FEED_RESPONSES
      }
    }, async (request, reply) => {
      const row = await findOrRedirect(request, owner.address, ownerRef(owner, request.params))
      const { blog, ...feedIntro } = describe(row)
      return sendFeed(request, reply, request.query, {
        name: `${owner.entity}:${row.id}`,
        ...feedIntro,
        homeUrl: blog === undefined ? undefined : blogWebsite(blog, config.site) ?? blogApiUrl(linksFor(request), blog.slug),
        scope: owner.scopeOf(row.id),
        owner: { type: owner.entity, id: row.id },
        topicPath: `/v1/${owner.entity}s/${row.slug}/feed`
      })
    })
  }
}

export const feedsRoutes = routePlugin('feeds-routes', feedsPlugin)
