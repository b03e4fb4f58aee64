import { sql, type Selectable } from 'kysely'
import type { Executor } from '../../db/database.ts'
import type { WebhookDeliveriesTable, WebhooksTable } from '../../db/schema.ts'

export type WebhookRow = Pick<Selectable<WebhooksTable>, 'id' | 'url' | 'description' | 'event_types' | 'is_active' | 'created_at' | 'updated_at'>
const WEBHOOK_COLUMNS = ['id', 'url', 'description', 'event_types', 'is_active', 'created_at', 'updated_at'] as const

export type DeliveryRow = Pick<Selectable<WebhookDeliveriesTable>,
  'id' | 'event_type' | 'change_seq' | 'status' | 'attempts' | 'next_attempt_at' | 'last_status_code' | 'last_error' | 'created_at' | 'delivered_at'>
const DELIVERY_COLUMNS = ['id', 'event_type', 'change_seq', 'status', 'attempts', 'next_attempt_at', 'last_status_code', 'last_error', 'created_at', 'delivered_at'] as const

export async function insertWebhook (db: Executor, values: { id: string, url: string, description: string, event_types: string[], secret: string, is_active: boolean }): Promise<WebhookRow> {
  return db.insertInto('webhooks').values(values).returning(WEBHOOK_COLUMNS).executeTakeFirstOrThrow()
}

export async function findWebhook (db: Executor, id: string): Promise<WebhookRow | undefined> {
  return db.selectFrom('webhooks').select(WEBHOOK_COLUMNS).where('id', '=', id).executeTakeFirst()
}

export async function listWebhooks (db: Executor, page: { limit: number, afterId?: string | undefined }): Promise<WebhookRow[]> {
  let query = db.selectFrom('webhooks').select(WEBHOOK_COLUMNS).orderBy('id').limit(page.limit)
  if (page.afterId !== undefined) query = query.where('id', '>', page.afterId)
  return query.execute()
}

export async function updateWebhook (db: Executor, id: string, values: Record<string, unknown>): Promise<WebhookRow | undefined> {
  return db.updateTable('webhooks').set({ ...values, version: sql<number>`version + 1`, updated_at: sql<Date>`now()` } as never)
    .where('id', '=', id).returning(WEBHOOK_COLUMNS).executeTakeFirst()
}

export async function deleteWebhook (db: Executor, id: string): Promise<boolean> {
  const result = await db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst()
  return result.numDeletedRows > 0n
}

export async function listDeliveries (db: Executor, webhookId: string, page: { limit: number, beforeId?: string | undefined }): Promise<DeliveryRow[]> {
  let query = db.selectFrom('webhook_deliveries').select(DELIVERY_COLUMNS).where('webhook_id', '=', webhookId).orderBy('id', 'desc').limit(page.limit)
  if (page.beforeId !== undefined) query = query.where('id', '<', page.beforeId)
  return query.execute()
}

/** Sends a delivery again: pending now, with a fresh budget of attempts. */
export async function requeueDelivery (db: Executor, webhookId: string, deliveryId: string): Promise<DeliveryRow | undefined> {
  return db.updateTable('webhook_deliveries')
    .set({ status: 'pending', attempts: 0, next_attempt_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
    .where('id', '=', deliveryId).where('webhook_id', '=', webhookId)
    .returning(DELIVERY_COLUMNS).executeTakeFirst()
}

// The dispatcher's side.

/** Locks the fan-out position: one process at a time turns changes into deliveries. */
export async function lockFanoutCursor (db: Executor): Promise<string> {
  const row = await db.selectFrom('change_cursors').select('seq').where('name', '=', 'webhook-fanout').forUpdate().executeTakeFirstOrThrow()
  return row.seq
}

/** How far fan-out has got, without waiting for a fan-out in progress. */
export async function fanoutPosition (db: Executor): Promise<string> {
  return (await db.selectFrom('change_cursors').select('seq').where('name', '=', 'webhook-fanout').executeTakeFirstOrThrow()).seq
}

export async function saveFanoutCursor (db: Executor, seq: string): Promise<void> {
  await db.updateTable('change_cursors').set({ seq, updated_at: sql<Date>`now()` }).where('name', '=', 'webhook-fanout').execute()
}

export async function activeWebhooks (db: Executor) {
  return db.selectFrom('webhooks').select(['id', 'event_types', 'created_at']).where('is_active', '=', true).execute()
}

export async function insertDeliveries (db: Executor, rows: Array<{ id: string, webhook_id: string, change_seq: string, event_type: string, payload: string }>): Promise<void> {
  if (rows.length === 0) return
  await db.insertInto('webhook_deliveries').values(rows).onConflict((oc) => oc.columns(['webhook_id', 'change_seq']).doNothing()).execute()
}

export interface ClaimedDelivery { id: string, payload: unknown, attempts: number, url: string, secret: string }

/**
 * Claims due deliveries for this process: SKIP LOCKED so processes never take the same one, and
 * a lease (next_attempt_at pushed ahead) so a process that dies mid-send gives it back.
 */
export async function claimDueDeliveries (db: Executor, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  return db.updateTable('webhook_deliveries as d')
    .from('webhooks as w')
    .set({
      attempts: sql<number>`d.attempts + 1`,
      next_attempt_at: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})`,
      updated_at: sql<Date>`now()`
    })
    .whereRef('w.id', '=', 'd.webhook_id')
    .where('d.id', 'in', (eb) => eb.selectFrom('webhook_deliveries').select('id')
      .where('status', '=', 'pending').where('next_attempt_at', '<=', sql<Date>`now()`)
      .orderBy('next_attempt_at').limit(limit).forUpdate().skipLocked())
    .where('w.is_active', '=', true)
    .returning(['d.id', 'd.payload', 'd.attempts', 'w.url', 'w.secret'])
    .execute()
}

export async function recordAttempt (db: Executor, id: string, outcome: { status: 'pending' | 'succeeded' | 'failed', code: number | null, error: string | null, retryInMs?: number }): Promise<void> {
  await db.updateTable('webhook_deliveries').set({
    status: outcome.status,
    last_status_code: outcome.code,
    last_error: outcome.error,
    updated_at: sql<Date>`now()`,
    ...(outcome.status === 'succeeded' ? { delivered_at: sql<Date>`now()` } : {}),
    ...(outcome.retryInMs === undefined ? {} : { next_attempt_at: sql<Date>`now() + make_interval(secs => ${outcome.retryInMs / 1000})` })
  }).where('id', '=', id).execute()
}

/**
 * Deletes up to `limit` finished deliveries (succeeded or failed) made before `before`; returns
 * how many. Their ids are UUIDv7, in order of creation, so the bound is a range of the primary key.
 */
export async function pruneDeliveries (db: Executor, before: Date, limit: number): Promise<number> {
  const boundary = `${before.getTime().toString(16).padStart(12, '0').replace(/^(.{8})(.{4})$/, '$1-$2')}-0000-0000-000000000000`
  const result = await db.deleteFrom('webhook_deliveries')
    .where('id', 'in', (eb) => eb.selectFrom('webhook_deliveries').select('id')
      .where('id', '<', boundary).where('status', '!=', 'pending').orderBy('id').limit(limit))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

export async function pendingDeliveryCount (db: Executor): Promise<number> {
  const row = await db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow()
  return Number(row.n)
}
