import type { EntityType } from './vocabulary.ts'

// Surrogate keys name what a response was made from, so a cache (this process's response cache,
// or a CDN purging by key) can drop exactly the responses a change made stale. The keys a
// response carries and the keys a change purges are both written here, side by side: a route
// that embeds something new must say so here, where the purge rule can be checked against it.

/** One resource: `post:<id>`, `blog:<id>`, `author:<id>`, `tag:<id>`. */
export function resourceKey (type: EntityType, id: string): string {
  return `${type}:${id}`
}

/** Every list of one kind of resource: `posts:list`, `blogs:list` ... */
export function listKey (type: EntityType): string {
  return `${type}s:list`
}

/** A feed: `feed:latest`, `feed:blog:<id>` ... */
export function feedKey (name: string): string {
  return `feed:${name}`
}

/**
 * A single post embeds its blog, authors and tags in brief; with `include=authors` or
 * `include=tags` it embeds them whole, latest_post_at and all (see bylineKeys).
 */
export function postKeys (
  post: { id: string, blog_id: string, authors: ReadonlyArray<{ id: string }>, tags: ReadonlyArray<{ id: string }> }, included: readonly string[] = []
): string[] {
  return [
    resourceKey('post', post.id), resourceKey('blog', post.blog_id),
    ...post.authors.map((a) => resourceKey('author', a.id)), ...post.tags.map((t) => resourceKey('tag', t.id)),
    ...(included.includes('authors') || included.includes('tags') ? [listKey('post')] : [])
  ]
}

/**
 * A list of posts (or a feed) scoped to some blog, author or tag. Any post change can add a post
 * to any list or drop one from it, so every such list names `posts:list`; naming each item as
 * well would add a kilobyte per response and purge nothing more.
 */
export function postListKeys (scope: ReadonlyArray<{ type: EntityType, id: string }> = []): string[] {
  return [listKey('post'), ...scope.map((s) => resourceKey(s.type, s.id))]
}

/**
 * Authors and tags carry the time of their latest public post, which any post change can move
 * (a publish, an unpublish, a byline edit); the change row does not say whose posts those were,
 * so their responses also depend on `posts:list`.
 */
export function bylineKeys (type: 'author' | 'tag', ids: readonly string[], list = false): string[] {
  return [...(list ? [listKey(type)] : []), ...ids.map((id) => resourceKey(type, id)), listKey('post')]
}

/** Blogs embed nothing that another change moves. */
export function blogKeys (ids: readonly string[], list = false): string[] {
  return [...(list ? [listKey('blog')] : []), ...ids.map((id) => resourceKey('blog', id))]
}

/** What a public change to one resource makes stale, in the keys above. */
export function staleKeysFor (type: EntityType, id: string): string[] {
  // Post lists and feeds embed blog, author and tag summaries, so any of those changing
  // reaches them too; single posts name theirs in postKeys.
  if (type === 'post') return [resourceKey('post', id), listKey('post')]
  return [resourceKey(type, id), listKey(type), listKey('post')]
}
