import { z } from 'zod'
import { PageQuerySchema } from '../../http/pagination.ts'
import { IdOrSlugSchema } from '../addressing/identifiers.ts'
import { SlugSchema } from '../addressing/slugs.ts'
import { listParam } from '../common/query-params.ts'

// Authors and tags are what posts are listed by; their lists filter the same way and can say
// how many public posts each has (`include=count.posts`, as Ghost's Content API does).

export const BYLINE_INCLUDES = ['count.posts'] as const

const include = listParam(z.enum(BYLINE_INCLUDES), 1, 'relation', 'count.posts').optional()
  .describe('count.posts: add `count.posts`, the number of public posts.')

export function bylineListQuery (noun: string, exampleSlug: string) {
  return PageQuerySchema.extend({
    ids: listParam(z.uuid(), 100, 'id').optional().describe(`Only these ${noun}s (comma-separated ids).`),
    slug: listParam(SlugSchema, 100, 'slug', exampleSlug).optional().describe(`Only these ${noun}s (comma-separated slugs).`),
    blog: listParam(IdOrSlugSchema, 20, 'blog', 'under-the-black-flag').optional().describe(`Only ${noun}s with public posts in these blogs (ids or slugs).`),
    include
  }).strict()
}

export const BylineGetQuerySchema = z.object({ include }).strict()

export const PostCountSchema = z.object({ posts: z.number().int().min(0) })
  .describe('With `include=count.posts`: how many public posts.')

export type BylineListQuery = z.infer<ReturnType<typeof bylineListQuery>>
export type BylineGetQuery = z.infer<typeof BylineGetQuerySchema>
