import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Kysely } from 'kysely'
import { uuidv7 } from 'uuidv7'
import { listChanges } from '../../changes/change-log.repository.ts'
import { eventMatches } from '../../changes/vocabulary.ts'
import type { Config } from '../../config.ts'
import type { DB } from '../../db/schema.ts'
import { loadChangeData } from '../changes/change-data.ts'
import { configuredLinks } from '../../content/common/site.ts'
import {
  activeWebhooks, claimDueDeliveries, insertDeliveries, lockFanoutCursor, pruneDeliveries, recordAttempt, saveFanoutCursor,
  type ClaimedDelivery
} from './webhooks.repository.ts'
import { runInBackground } from '../background-job.ts'
import { signatureHeaders } from './signing.ts'
import type { Resolver } from './targets.ts'
import { post } from './transport.ts'

// Delivery runs from the change log in two steps, both safe with many API processes:
// 1. fan-out: one process at a time (a row lock on its cursor) turns new events into one
//    delivery per matching webhook, with the payload fixed then, so every retry sends the same;
// 2. delivery: due deliveries are claimed with SKIP LOCKED and a lease; a 2xx marks success,
//    anything else retries with exponential backoff and jitter until the attempts run out.
// At least once: a process that dies mid-send lets the lease expire, and another sends again.

type WebhookSettings = Config['webhooks']

export async function fanOut (db: Kysely<DB>, config: Pick<Config, 'publicBaseUrl' | 'site'>, batch = 200): Promise<number> {
  return db.transaction().execute(async (tx) => {
    const after = await lockFanoutCursor(tx)
    const events = await listChanges(tx, { afterSeq: after, limit: batch, visibility: 'events' })
    const last = events.at(-1)
    if (last === undefined) return 0
    const hooks = await activeWebhooks(tx)
    const data = await loadChangeData(tx, configuredLinks(config), events, 'public')
    const deliveries = events.flatMap((change) => hooks
      // A webhook hears of what happens after it was made, not of the history before.
      .filter((hook) => change.occurred_at >= hook.created_at && eventMatches(hook.event_types, change.event as string))
      .map((hook) => ({
        id: uuidv7(),
        webhook_id: hook.id,
        change_seq: change.seq,
        event_type: change.event as string,
        payload: JSON.stringify({
          type: change.event,
          timestamp: change.occurred_at.toISOString(),
          data: data.get(change.entity_id) ?? { id: change.entity_id, type: change.entity_type }
        })
      })))
    await insertDeliveries(tx, deliveries)
    await saveFanoutCursor(tx, last.seq)
    return deliveries.length
  })
}

export function retryDelay (attempt: number, baseMs: number): number {
  const exponential = Math.min(baseMs * 2 ** (attempt - 1), 3_600_000)
  return Math.round(exponential / 2 + Math.random() * exponential / 2)
}

async function send (delivery: ClaimedDelivery, settings: WebhookSettings, resolver: Resolver | undefined): Promise<{ code: number | null, error: string | null }> {
  const body = JSON.stringify(delivery.payload)
  const headers = { 'content-type': 'application/json', 'user-agent': 'content-api-webhooks', ...signatureHeaders(delivery.secret, delivery.id, body) }
  try {
    const code = await post(delivery.url, headers, body, { timeoutMs: settings.timeoutMs, allowPrivateTargets: settings.allowPrivateTargets, resolver })
    return { code, error: code >= 200 && code < 300 ? null : `receiver answered ${code}` }
  } catch (error) {
    return { code: null, error: (error instanceof Error ? error.message : String(error)).slice(0, 500) }
  }
}

/** Claims and sends what is due; returns how many deliveries were attempted. */
export async function deliverDue (db: Kysely<DB>, settings: WebhookSettings, options: { batch?: number, resolver?: Resolver } = {}): Promise<number> {
  const claimed = await claimDueDeliveries(db, options.batch ?? 20, settings.timeoutMs + 5_000)
  await Promise.all(claimed.map(async (delivery) => {
    const { code, error } = await send(delivery, settings, options.resolver)
    if (error === null) return recordAttempt(db, delivery.id, { status: 'succeeded', code, error })
    if (delivery.attempts >= settings.maxAttempts) return recordAttempt(db, delivery.id, { status: 'failed', code, error })
    return recordAttempt(db, delivery.id, { status: 'pending', code, error, retryInMs: retryDelay(delivery.attempts, settings.retryBaseMs) })
  }))
  return claimed.length
}

const PRUNE_BATCH = 1_000
const PRUNE_INTERVAL_MS = 15 * 60_000

/** Deletes the finished deliveries older than the retention, a batch at a time; returns how many. */
export async function pruneOldDeliveries (db: Kysely<DB>, retentionMs: number): Promise<number> {
  const before = new Date(Date.now() - retentionMs)
  let total = 0
  for (;;) {
    const deleted = await pruneDeliveries(db, before, PRUNE_BATCH)
    total += deleted
    if (deleted < PRUNE_BATCH) return total
  }
}

/**
 * What each API process runs: fan-out and delivery, woken by every change (LISTEN/NOTIFY) and by
 * a timer for retries; and the pruning of old deliveries. Closing the app stops taking new work
 * and waits for the sends in flight (the database closes only after that).
 */
async function dispatcher (app: FastifyInstance, options: { pollMs?: number }): Promise<void> {
  runInBackground(app, {
    failure: 'webhook dispatch failed',
    everyMs: options.pollMs ?? 1_000,
    onChanges: true,
    run: async (stopped) => {
      while (!stopped()) {
        const fanned = await fanOut(app.db, app.config)
        const sent = await deliverDue(app.db, app.config.webhooks)
        if (fanned === 0 && sent === 0) return
      }
    }
  })
  // Finished deliveries keep their payload (a post's whole body) for the delivery log and
  // retries, WEBHOOK_DELIVERY_RETENTION_DAYS long; without this the table grew by one per event
  // and webhook, for good.
  runInBackground(app, {
    failure: 'deleting old webhook deliveries failed',
    everyMs: PRUNE_INTERVAL_MS,
    run: async () => {
      const count = await pruneOldDeliveries(app.db, app.config.webhooks.deliveryRetentionMs)
      if (count > 0) app.log.info({ count }, 'deleted finished webhook deliveries past their retention')
    }
  })
}

export const dispatcherPlugin = fp(dispatcher, { name: 'webhook-dispatcher', dependencies: ['core', 'change-log'] })
