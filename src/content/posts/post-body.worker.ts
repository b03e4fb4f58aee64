import type { MessagePort } from 'node:worker_threads'
import { prepareBody, type ArticleBody } from './post-body.ts'

// Runs in a worker thread of the body renderer's pool (body-renderer.ts): Markdown rendering and
// HTML sanitizing can take far longer than their input's size suggests, and here they cannot
// stall the API's event loop; a render over its time budget is stopped by ending this thread.

export default function render (input: { html?: string | undefined, markdown?: string | undefined, started: MessagePort }): ArticleBody {
  // The budget is for the render, not for starting this thread or waiting in the queue.
  input.started.postMessage('started')
  input.started.close()
  return prepareBody(input)
}
