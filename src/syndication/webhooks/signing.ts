import { createHmac, randomBytes } from 'node:crypto'

// Standard Webhooks (standardwebhooks.com): headers webhook-id, webhook-timestamp and
// webhook-signature = "v1,<base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`>", keyed with the
// bytes of the whsec_ secret. Any Standard Webhooks library verifies our deliveries.

export function generateWebhookSecret (): string {
  return `whsec_${randomBytes(24).toString('base64')}`
}

export function signatureHeaders (secret: string, id: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` }
}
