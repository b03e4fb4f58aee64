import { availableParallelism } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { MessageChannel } from 'node:worker_threads'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Piscina } from 'piscina'
import { AppError } from '../../http/errors.ts'
import type { ArticleBody } from './post-body.ts'

// Article bodies are rendered (Markdown) and sanitized off the request loop, in a small pool of
// worker threads, each render with a hard time budget: when it runs out, the thread doing it is
// terminated and the client gets a 422 naming the field. Rendering time grows much faster than
// input size on some inputs (marked's emphasis rules, nested block quotes that overflow the
// stack), and no check on the input's size alone can tell those from a long article.

export interface BodyRenderer {
  /** The stored body fields for what a client sent; a 422 naming the field when it cannot be rendered in time. */
  render (input: { body_html?: string | undefined, body_markdown?: string | undefined }): Promise<ArticleBody | undefined>
}

declare module 'fastify' {
  interface FastifyInstance { bodyRenderer: BodyRenderer }
}

// The worker is this folder's post-body.worker, as .ts under tsx (tests, development) and as
// .js compiled (production).
const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), `post-body.worker${path.extname(fileURLToPath(import.meta.url))}`)

/** How long a render may wait for a thread to start and for its turn in the queue. */
const QUEUE_AND_START_MS = 30_000

function tooComplex (field: string, why: string): AppError {
  return new AppError(422, 'body_too_complex', `${field} ${why}; simplify its structure (emphasis runs, nesting) or send body_html.`,
    { errors: [{ path: `body.${field}`, message: why }] })
}

async function bodyRenderer (app: FastifyInstance): Promise<void> {
  const budgetMs = app.config.bodyRenderTimeoutMs
  const pool = new Piscina({
    filename: WORKER,
    // Threads start when a write needs one and end when idle: most processes mostly read.
    minThreads: 0,
    maxThreads: Math.max(1, Math.min(2, availableParallelism())),
    idleTimeout: 30_000,
    // Past this, writes wait for their turn in the queue (their budget counts the wait).
    maxQueue: 64
  })
  app.addHook('onClose', async () => { await pool.destroy() })

  app.decorate('bodyRenderer', {
    async render (input) {
      if (input.body_html === undefined && input.body_markdown === undefined) return undefined
      const field = input.body_markdown !== undefined ? 'body_markdown' : 'body_html'
      // The clock starts when a worker starts this render and stops when the HTML is rendered and
      // sanitized (it says so on `progress`: the text and word count after that are linear); a
      // thread that never gets that far is given up on well after that.
      const abort = new AbortController()
      const { port1: progress, port2: progressInWorker } = new MessageChannel()
      let budget: NodeJS.Timeout | undefined
      progress.on('message', (step) => {
        clearTimeout(budget)
        if (step === 'started') budget = setTimeout(() => abort.abort(), budgetMs)
      })
      const backstop = setTimeout(() => abort.abort(), budgetMs + QUEUE_AND_START_MS)
      try {
        return await pool.run({ html: input.body_html, markdown: input.body_markdown, progress: progressInWorker },
          { signal: abort.signal, transferList: [progressInWorker] }) as ArticleBody
      } catch (error) {
        if (error instanceof Error && error.name === 'AbortError') throw tooComplex(field, `could not be rendered within ${budgetMs} ms`)
        if (error instanceof RangeError || (error instanceof Error && /call stack/i.test(error.message))) throw tooComplex(field, 'is nested too deeply to render')
        throw error
      } finally {
        clearTimeout(budget)
        clearTimeout(backstop)
        progress.close()
      }
    }
  } satisfies BodyRenderer)
}

export const bodyRendererPlugin = fp(bodyRenderer, { name: 'body-renderer', dependencies: ['core'] })
