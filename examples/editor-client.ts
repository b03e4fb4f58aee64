// Typed client for an editor's tool: writing and publishing with a content:write key, typed by
// openapi-fetch and the generated types like the frontend's (news-client.ts).
import createClient from 'openapi-fetch'
import type { components, paths } from '../openapi/openapi.d.ts'

export type WrittenPost = components['schemas']['WrittenPost']['data']

export function editorClient (baseUrl: string, key: string) {
  return createClient<paths, 'application/json' | 'application/problem+json'>({ baseUrl, headers: { authorization: `Bearer ${key}` } })
}
type Client = ReturnType<typeof editorClient>

/** A draft in a blog, written in Markdown. */
export async function writeDraft (client: Client, blog: string, title: string, markdown: string): Promise<WrittenPost> {
  const { data, error } = await client.POST('/v1/posts', { body: { blog, title, body_markdown: markdown } })
  if (error !== undefined) throw new Error(`${error.status} ${error.title}: ${error.detail ?? ''}`)
  return data.data
}

/** Publishes now: no body at all (a body with `at` would schedule it). */
export async function publishNow (client: Client, id: string): Promise<WrittenPost> {
  const { data, error } = await client.POST('/v1/posts/{id}/publish', { params: { path: { id } } })
  if (error !== undefined) throw new Error(`${error.status} ${error.title}: ${error.detail ?? ''}`)
  return data.data
}
