import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import { Counter } from 'prom-client'
import { latestChangeSeq, listChanges, ownersOfPostChange, type ChangeRow } from '../../changes/change-log.repository.ts'
import { advanceCursor, withLeasedCursor } from '../../changes/cursor-leases.repository.ts'
import type { Config } from '../../config.ts'
import type { Executor } from '../../db/database.ts'
import type { DB } from '../../db/schema.ts'
import { slugsById } from '../../content/resources/resources.repository.ts'
import { feedOwnersOfPosts } from '../../content/posts/posts.writes.repository.ts'
import { formerSlugs } from '../../content/addressing/addressing.repository.ts'
import { runInBackground } from '../background-job.ts'
import { webSubTopics } from './websub-topics.ts'

// Feeds name a WebSub hub (WEBSUB_HUB_URL) and their own URL as the topic; WebSub (W3C, 7) says
// the publisher MUST tell the hub when a topic is updated, which the hub then fetches and pushes
// to its subscribers. This follows the change log as webhook fan-out does (a cursor, one process
// at a time) and sends the hub the publish ping hubs take (Google's, Superfeedr, WebSub.rocks):
// a form POST of hub.mode=publish with each updated topic as hub.url. A hub that does not answer
// 2xx is asked again, the cursor unmoved, with a growing pause.

const BATCH = 100
/** Topics per ping: hubs take hub.url repeated; a form body stays well under their limits. */
const TOPICS_PER_PING = 100
const TIMEOUT_MS = 5_000
/** Longer than a batch's pings should take (5 s each at worst); a lease that runs out early only means a second ping. */
const LEASE_MS = 300_000
const RETRY_MS = { firstMs: 1_000, maxMs: 300_000 }
/**
 * Every feed whose items or title the public saw change with these changes: of each blog,
 * author and tag changed, and of each post's blog, authors and tags (its change row names them,
 * and those it left: a post moved or a byline corrected), at its slug and at every slug it had
 * before a rename (subscribers keep the topic URL they subscribed to; it redirects).
 */
export async function updatedTopics (db: Executor, apiBase: string, changes: readonly ChangeRow[]): Promise<string[]> {
  const paths = new Set<string>(['/v1/feeds/latest', '/v1/feeds/breaking'])
  const owners = { blog: new Set<string>(), author: new Set<string>(), tag: new Set<string>() }
  const add = (type: keyof typeof owners, ...ids: ReadonlyArray<string | null>) => { for (const id of ids) if (id !== null) owners[type].add(id) }
  const unlogged: string[] = []
  for (const change of changes) {
    if (change.entity_type !== 'post') {
      add(change.entity_type, change.entity_id)
      continue
    }
    const touched = ownersOfPostChange(change)
    if (touched === undefined) {
      add('blog', change.blog_id)
      unlogged.push(change.entity_id)
      continue
    }
    add('blog', ...touched.blog)
    add('author', ...touched.author)
    add('tag', ...touched.tag)
  }
  // Rows written before the log named a post's bylines: its bylines as they are now.
  for (const post of await feedOwnersOfPosts(db, unlogged)) {
    add('blog', post.blog_id)
    add('author', ...post.author_ids)
    add('tag', ...post.tag_ids)
  }
  for (const [type, ids] of Object.entries(owners) as Array<[keyof typeof owners, Set<string>]>) {
    const table = `${type}s` as const
    const slugs = [...(await slugsById(db, table, [...ids])).values(), ...await formerSlugs(db, type, [...ids])]
    for (const slug of slugs) paths.add(`/v1/${table}/${slug}/feed`)
  }
  return [...paths].flatMap((path) => webSubTopics(apiBase, path))
}

async function ping (hub: string, urls: readonly string[]): Promise<void> {
  for (let i = 0; i < urls.length; i += TOPICS_PER_PING) {
    const form = new URLSearchParams([['hub.mode', 'publish'], ...urls.slice(i, i + TOPICS_PER_PING).map((url): [string, string] => ['hub.url', url])])
    const res = await fetch(hub, { method: 'POST', body: form, signal: AbortSignal.timeout(TIMEOUT_MS) })
    await res.arrayBuffer()
    if (!res.ok) throw new Error(`the WebSub hub answered ${res.status}`)
  }
}

/**
 * Tells the hub of the feeds the next public changes updated, and moves the cursor past them;
 * returns how many changes it passed (0 when none, or another process is at it). The cursor is
 * leased, not locked, so no transaction waits on the hub; a process that dies mid-ping lets the
 * lease run out and another pings again (hubs take a ping twice without harm).
 */
export async function publishToHub (db: Kysely<DB>, config: Pick<Config, 'publicBaseUrl'> & { feeds: { websubHub: string | undefined } }): Promise<{ changes: number, topics: number }> {
  const hub = config.feeds.websubHub
  if (hub === undefined) return { changes: 0, topics: 0 }
  let passed = { changes: 0, topics: 0 }
  await withLeasedCursor(db, 'websub', LEASE_MS, async (from) => {
    const changes = await listChanges(db, { afterSeq: from, limit: BATCH, visibility: 'public' })
    const last = changes.at(-1)
    if (last === undefined) return undefined
    const urls = await updatedTopics(db, config.publicBaseUrl, changes)
    await ping(hub, urls)
    passed = { changes: changes.length, topics: urls.length }
    return last.seq
  })
  return passed
}

/** Woken by every change; a failed ping is tried again after a pause that doubles up to 5 minutes. */
async function webSubPublisher (app: FastifyInstance): Promise<void> {
  if (app.config.feeds.websubHub === undefined) {
    // No hub to tell: the cursor follows the log, so a hub configured later hears of what
    // happens from then on, not of the whole history in one burst.
    app.addHook('onReady', async () => { await advanceCursor(app.db, 'websub', await latestChangeSeq(app.db)) })
    return
  }
  const pings = new Counter({ name: 'websub_pings_total', help: 'Publish pings sent to the WebSub hub (WEBSUB_HUB_URL), by result.', labelNames: ['result'] as const, registers: [app.metrics.registry] })
  runInBackground(app, {
    failure: 'telling the WebSub hub of feed updates failed',
    onChanges: true,
    retryAfterFailure: RETRY_MS,
    run: async (stopped) => {
      try {
        while (!stopped() && (await publishToHub(app.db, app.config)).changes > 0) pings.inc({ result: 'sent' })
      } catch (error) {
        pings.inc({ result: 'failed' })
        throw error
      }
    }
  })
}

export const webSubPublisherPlugin = fp(webSubPublisher, { name: 'websub-publisher', dependencies: ['core', 'metrics', 'change-log'] })
