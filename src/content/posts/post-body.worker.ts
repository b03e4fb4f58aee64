import type { MessagePort } from 'node:worker_threads'
import { deriveBodyFields, prepareBodyHtml, type ArticleBody } from './post-body.ts'

// Runs in a worker thread of the body renderer's pool (body-renderer.ts): Markdown rendering and
// HTML sanitizing can take far longer than their input's size suggests, and here they cannot
// stall the API's event loop; a render over its time budget is stopped by ending this thread.

export default function render (input: { html?: string | undefined, markdown?: string | undefined, progress: MessagePort }): ArticleBody {
  // The budget is for rendering and sanitizing, whose time can grow far faster than the input:
  // not for starting this thread or waiting in the queue, nor for the text and word count after
  // them, which grow with the text's length alone (the longest Chinese body: 0.7-1.2 s of word
  // segmentation on Node 20, which a busy machine pushed past the 3 s budget).
  input.progress.postMessage('started')
  const bodyHtml = prepareBodyHtml(input)
  input.progress.postMessage('rendered')
  input.progress.close()
  return deriveBodyFields(bodyHtml)
}
