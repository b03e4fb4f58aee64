import { ownersOfPostChange, type ChangeRow } from './change-log.repository.ts'
import type { EntityType } from './vocabulary.ts'

// Surrogate keys name what a response was made from, so a cache (this process's response cache,
// or a CDN purging by key) can drop exactly the responses a change made stale. The keys a
// response carries and the keys a change purges are both written here, side by side: a route
// that embeds something new must say so here, where the purge rule can be checked against it.

/** One resource: `post:<id>`, `blog:<id>`, `author:<id>`, `tag:<id>`. */
export function resourceKey (type: EntityType, id: string): string {
  return `${type}:${id}`
}

/**
 * Every list of one kind of resource: `posts:list`, `blogs:list` ... Post lists embed blog,
 * author and tag summaries, so a change to any of those purges `posts:list`; a post change
 * purges only the lists it can be in (postListKeys).
 */
export function listKey (type: EntityType): string {
  return `${type}s:list`
}

/** The lists of posts of one blog, author or tag (theirs alone): `posts:in:author:<id>`. */
export function postsOfKey (owner: { type: EntityType, id: string }): string {
  return `posts:in:${owner.type}:${owner.id}`
}

/** Whatever any public post change can move: lists of every post, latest_post_at across authors or tags. */
export const ANY_POST_KEY = 'posts:any'

/** A feed: `feed:latest`, `feed:blog:<id>` ... */
export function feedKey (name: string): string {
  return `feed:${name}`
}

/**
 * A single post embeds its blog, authors and tags in brief; with `include=authors` or
 * `include=tags` it embeds them whole, latest_post_at and all, which their other posts move.
 */
export function postKeys (
  post: { id: string, blog_id: string, authors: ReadonlyArray<{ id: string }>, tags: ReadonlyArray<{ id: string }> }, included: readonly string[] = []
): string[] {
  return [
    resourceKey('post', post.id), resourceKey('blog', post.blog_id),
    ...post.authors.map((a) => resourceKey('author', a.id)), ...post.tags.map((t) => resourceKey('tag', t.id)),
    ...(included.includes('authors') ? post.authors.map((a) => postsOfKey({ type: 'author', id: a.id })) : []),
    ...(included.includes('tags') ? post.tags.map((t) => postsOfKey({ type: 'tag', id: t.id })) : [])
  ]
}

/**
 * A list of posts (or a feed), of one blog, author or tag when `scope` names it, else of all of
 * them. A scoped list changes only when a post of its owner does (staleKeysFor names the owners
 * a post had and has); naming each item instead would add a kilobyte per response and purge
 * nothing more. `wholeBylines`: the list embeds its posts' authors or tags whole, whose
 * latest_post_at a post outside the list moves.
 */
export function postListKeys (scope: ReadonlyArray<{ type: EntityType, id: string }> = [], wholeBylines = false): string[] {
  return [
    listKey('post'),
    ...(scope.length === 0 || wholeBylines ? [ANY_POST_KEY] : scope.map(postsOfKey)),
    ...scope.map((s) => resourceKey(s.type, s.id))
  ]
}

/**
 * A list of the posts it names (`?ids=`): only their changes can move it, so their own keys
 * stand for `posts:any` (a post named before it is public is among them: its publish purges
 * the list). `scope` and `wholeBylines` as in postListKeys.
 */
export function namedPostsKeys (ids: readonly string[], scope: ReadonlyArray<{ type: EntityType, id: string }> = [], wholeBylines = false): string[] {
  return [
    listKey('post'), ...(wholeBylines ? [ANY_POST_KEY] : []),
    ...ids.map((id) => resourceKey('post', id)), ...scope.map((s) => resourceKey(s.type, s.id))
  ]
}

/**
 * Authors and tags carry the time of their latest public post (and Ghost's post counts), and
 * their Last-Modified counts the last change to their posts (last-modified.ts): one author's
 * moves with its own posts; a list of them with any post (one may join it: a site's authors are
 * those of its posts).
 */
export function bylineKeys (type: 'author' | 'tag', ids: readonly string[], list = false): string[] {
  return [
    ...(list ? [listKey(type), ANY_POST_KEY] : ids.map((id) => postsOfKey({ type, id }))),
    ...ids.map((id) => resourceKey(type, id)), listKey('post')
  ]
}

/** Blogs embed nothing that another change moves. */
export function blogKeys (ids: readonly string[], list = false): string[] {
  return [...(list ? [listKey('blog')] : []), ...ids.map((id) => resourceKey('blog', id))]
}

/** What a change the public saw (a row of the change log) makes stale, in the keys above. */
export function staleKeysFor (change: Pick<ChangeRow, 'entity_type' | 'entity_id' | 'blog_id' | 'author_ids' | 'tag_ids' | 'left_author_ids' | 'left_tag_ids'>): string[] {
  const { entity_type: type, entity_id: id } = change
  // Post lists and feeds embed blog, author and tag summaries, so any of those changing
  // reaches them all; single posts name theirs in postKeys.
  if (type !== 'post') return [resourceKey(type, id), listKey(type), listKey('post')]
  const owners = ownersOfPostChange(change)
  // A row from before posts' bylines were logged does not say whose lists the post was in.
  if (owners === undefined) return [resourceKey('post', id), ANY_POST_KEY, listKey('post')]
  return [
    resourceKey('post', id), ANY_POST_KEY,
    ...(['blog', 'author', 'tag'] as const).flatMap((ownerType) => owners[ownerType].map((ownerId) => postsOfKey({ type: ownerType, id: ownerId })))
  ]
}
