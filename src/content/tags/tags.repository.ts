import type { Selectable } from 'kysely'
import { ownLatestPostChangeColumn, type LatestPostChange } from '../../changes/change-log.repository.ts'
import type { Executor } from '../../db/database.ts'
import type { TagsTable } from '../../db/schema.ts'
import { latestPublicPostAt } from '../posts/posts.repository.ts'
import { resourceReads } from '../resources/resources.repository.ts'
import { withBylineOptions, type BylineOptions } from '../resources/byline.repository.ts'

export type TagRow = Pick<Selectable<TagsTable>,
  'id' | 'slug' | 'name' | 'description' | 'version' | 'created_at' | 'updated_at'> & LatestPostChange & { latest_post_at: Date | null, post_count?: number }

function selectTags (db: Executor) {
  return db.selectFrom('tags as t')
    .select(['t.id', 't.slug', 't.name', 't.description', 't.version', 't.created_at', 't.updated_at'])
    .select(latestPublicPostAt('post_tags', 't.id').as('latest_post_at'))
    .select(ownLatestPostChangeColumn('tag', 't.id'))
}

const reads = resourceReads<TagRow>(selectTags, 't')

/** A page of tags in slug order, filtered (ids, slugs, blogs) and with post counts as `options` say. */
export function listTags (db: Executor, page: { limit: number, afterSlug?: string | undefined }, options: BylineOptions = {}): Promise<TagRow[]> {
  return reads.list(db, page, (query) => withBylineOptions(query, 'post_tags', 't', options))
}
export const findTag = reads.find
export const findTagsByIds = reads.findByIds
