import type { Selectable } from 'kysely'
import type { Executor } from '../../db/database.ts'
import type { TagsTable } from '../../db/schema.ts'
import { latestPublicPostAt } from '../posts/posts.repository.ts'
import { resourceReads } from '../resources/resources.repository.ts'

export type TagRow = Pick<Selectable<TagsTable>,
  'id' | 'slug' | 'name' | 'description' | 'version' | 'created_at' | 'updated_at'> & { latest_post_at: Date | null }

function selectTags (db: Executor) {
  return db.selectFrom('tags as t')
    .select(['t.id', 't.slug', 't.name', 't.description', 't.version', 't.created_at', 't.updated_at'])
    .select(latestPublicPostAt('post_tags', 't.id').as('latest_post_at'))
}

const reads = resourceReads<TagRow>(selectTags, 't')
export const listTags = reads.list
export const findTag = reads.find
export const findTagsByIds = reads.findByIds
