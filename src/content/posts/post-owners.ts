import type { z } from 'zod'
import type { EntityType } from '../../changes/vocabulary.ts'
import { AUTHORS, BLOGS, TAGS } from '../addressing/addressables.ts'
import type { Addressable } from '../addressing/find-or-redirect.ts'
import { AuthorParamsSchema } from '../authors/authors.schemas.ts'
import { BlogParamsSchema } from '../blogs/blogs.schemas.ts'
import { TagParamsSchema } from '../tags/tags.schemas.ts'
import type { ListScope } from './posts.service.ts'

// What a list of posts (and a feed) can be scoped to by its path: /v1/blogs/{blog}/posts,
// /v1/authors/{author}/posts, /v1/tags/{tag}/posts, and their /feed. Declared once; the posts
// routes and the feeds routes each walk this list.

export interface PostOwner<Row extends { id: string, slug: string } = { id: string, slug: string }> {
  entity: Extract<EntityType, 'blog' | 'author' | 'tag'>
  address: Addressable<Row>
  /** The owner's path, e.g. /v1/blogs/:blog, its parameter, and its schema. */
  path: string
  param: string
  paramsSchema: z.ZodObject
  /** OpenAPI tag and name, e.g. Blogs / Blog. */
  openApiTag: string
  name: string
  scopeOf: (id: string) => ListScope
}

function owner<Row extends { id: string, slug: string }> (definition: PostOwner<Row>): PostOwner {
  return definition as unknown as PostOwner
}

export const POST_OWNERS: readonly PostOwner[] = [
  owner({
    entity: 'blog', address: BLOGS, path: '/v1/blogs/:blog', param: 'blog', paramsSchema: BlogParamsSchema,
    openApiTag: 'Blogs', name: 'Blog', scopeOf: (blogId) => ({ blogId })
  }),
  owner({
    entity: 'author', address: AUTHORS, path: '/v1/authors/:author', param: 'author', paramsSchema: AuthorParamsSchema,
    openApiTag: 'Authors', name: 'Author', scopeOf: (authorId) => ({ authorId })
  }),
  owner({
    entity: 'tag', address: TAGS, path: '/v1/tags/:tag', param: 'tag', paramsSchema: TagParamsSchema,
    openApiTag: 'Tags', name: 'Tag', scopeOf: (tagId) => ({ tagId })
  })
]

/** The owner a request's path names (its parameter's value). */
export function ownerRef (owner: PostOwner, params: unknown): string {
  return (params as Record<string, string>)[owner.param] as string
}
