import type { Selectable } from 'kysely'
import { ownLatestPostChangeColumn, type LatestPostChange } from '../../changes/change-log.repository.ts'
import type { Executor } from '../../db/database.ts'
import type { AuthorsTable } from '../../db/schema.ts'
import { latestPublicPostAt } from '../posts/posts.repository.ts'
import { resourceReads } from '../resources/resources.repository.ts'
import { withBylineOptions, type BylineOptions } from '../resources/byline.repository.ts'

export type AuthorRow = Pick<Selectable<AuthorsTable>,
  'id' | 'slug' | 'name' | 'bio' | 'avatar_url' | 'links' | 'version' | 'created_at' | 'updated_at'> & LatestPostChange & { latest_post_at: Date | null, post_count?: number }

function selectAuthors (db: Executor) {
  return db.selectFrom('authors as a')
    .select(['a.id', 'a.slug', 'a.name', 'a.bio', 'a.avatar_url', 'a.links', 'a.version', 'a.created_at', 'a.updated_at'])
    .select(latestPublicPostAt('post_authors', 'a.id').as('latest_post_at'))
    .select(ownLatestPostChangeColumn('author', 'a.id'))
}

const reads = resourceReads<AuthorRow>(selectAuthors, 'a')

/** A page of authors in slug order, filtered (ids, slugs, blogs) and with post counts as `options` say. */
export function listAuthors (db: Executor, page: { limit: number, afterSlug?: string | undefined }, options: BylineOptions = {}): Promise<AuthorRow[]> {
  return reads.list(db, page, (query) => withBylineOptions(query, 'post_authors', 'a', options))
}
export const findAuthor = reads.find
export const findAuthorsByIds = reads.findByIds
