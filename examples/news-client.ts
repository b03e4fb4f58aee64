// Typed client, step 2: a frontend's calls, typed end to end by openapi-fetch and the generated
// types. Run it against a server: `npx tsx examples/news-client.ts http://localhost:3000`.
import createClient from 'openapi-fetch'
import type { components, paths } from '../openapi/openapi.d.ts'

export type Post = components['schemas']['Post']
export type PostListItem = components['schemas']['PostListItem']
export type FeedItem = components['schemas']['FeedItem']

/**
 * The client. Naming the media types picks the JSON shape where a route answers several formats
 * (feeds), and problem+json types the errors.
 */
export function newsClient (baseUrl: string) {
  return createClient<paths, 'application/json' | 'application/problem+json'>({ baseUrl })
}
type Client = ReturnType<typeof newsClient>

/** A blog's "Latest Posts": every page, following the cursor until there is none (or `maxPages`). */
export async function allPostsOfBlog (client: Client, blog: string, maxPages = 50): Promise<PostListItem[]> {
  const posts: PostListItem[] = []
  let cursor: string | undefined
  for (let page = 0; page < maxPages; page++) {
    const { data, error } = await client.GET('/v1/blogs/{blog}/posts', {
      params: { path: { blog }, query: { limit: 10, is_breaking: false, ...(cursor === undefined ? {} : { cursor }) } }
    })
    if (error !== undefined) throw new Error(`${error.status} ${error.title}: ${error.detail ?? ''}`)
    // Without fields=, every item is complete: no `?.` needed on blog, authors or lead_image.
    posts.push(...data.data)
    if (data.meta.next_cursor === null) break
    cursor = data.meta.next_cursor
  }
  return posts
}

/** One article page: the post with its full body, addressed like its web page. */
export async function readArticle (client: Client, blog: string, slug: string): Promise<Post> {
  const { data, error, response } = await client.GET('/v1/blogs/{blog}/posts/{slug}', { params: { path: { blog, slug } } })
  if (error !== undefined) throw new Error(`${response.status}: ${error.detail ?? error.title}`)
  return data.data
}

/**
 * A topic page: the newest posts with any of these tags, their plain text too. List parameters
 * are arrays; openapi-fetch sends them as `tag=a&tag=b`, and the API takes `tag=a,b` as well.
 */
export async function postsTagged (client: Client, tags: string[]): Promise<PostListItem[]> {
  const { data, error } = await client.GET('/v1/posts', { params: { query: { tag: tags, formats: ['plaintext'], limit: 20 } } })
  if (error !== undefined) throw new Error(`${error.status} ${error.title}: ${error.detail ?? ''}`)
  return data.data
}

/** The "Breaking News" box: the compact JSON feed. */
export async function breakingNews (client: Client): Promise<FeedItem[]> {
  const { data, error } = await client.GET('/v1/feeds/breaking', { params: { query: { limit: 5, format: 'json' } } })
  if (error !== undefined) throw new Error(error.title)
  return data.data
}

/** The RSS of a blog, for a feed reader or a partner: XML text. */
export async function blogRss (client: Client, blog: string): Promise<string> {
  const { data, error } = await client.GET('/v1/blogs/{blog}/feed', { params: { path: { blog }, query: { format: 'rss' } }, parseAs: 'text' })
  if (error !== undefined) throw new Error(String(error))
  return data
}

/** What a frontend shows for one list item: never a missing field. */
export function headline (post: PostListItem): string {
  const byline = post.authors.map((author) => author.name).join(', ')
  return `${post.published_at.slice(0, 10)} ${post.blog.title}: ${post.title}${byline === '' ? '' : ` (${byline})`} <${post.url}>`
}

if (process.argv[1]?.endsWith('news-client.ts') === true) {
  const client = newsClient(process.argv[2] ?? 'http://localhost:3000')
  const posts = await allPostsOfBlog(client, 'under-the-black-flag')
  for (const post of posts.slice(0, 5)) console.log(headline(post))
  const first = posts[0]
  if (first !== undefined) console.log(`${(await readArticle(client, first.blog.slug, first.slug)).word_count} words in "${first.title}"`)
  console.log(`${(await breakingNews(client)).length} breaking news items; RSS of ${(await blogRss(client, 'under-the-black-flag')).length} bytes`)
}
