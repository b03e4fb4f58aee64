import type { Transaction } from 'kysely'
import type { z } from 'zod'
import type { ChangeEntry } from '../../changes/vocabulary.ts'
import type { Executor } from '../../db/database.ts'
import type { DB } from '../../db/schema.ts'
import type { Addressable } from '../addressing/find-or-redirect.ts'
import type { ResourceTable } from './resources.repository.ts'

// Blogs, authors and tags are the same kind of thing to the API: a slug that can be renamed (the
// old one answers 308), a version for If-Match, a list in slug order, and writes that go to the
// change log. Each describes itself with a ResourceSpec; resource.routes.ts makes its routes
// and resource-writes.service.ts its writes.

export interface ResourceRow { id: string, slug: string, version: number, updated_at: Date }

/** The Zod schemas of one resource's routes (each resource's .schemas.ts exports them as one object). */
export interface ResourceSchemas<Create extends z.ZodObject = z.ZodObject, DeleteQuery extends z.ZodObject = z.ZodObject> {
  item: z.ZodType
  page: z.ZodType
  response: z.ZodType
  params: z.ZodObject
  getQuery: z.ZodObject
  listQuery: z.ZodObject
  create: Create
  update: z.ZodType
  deleteQuery: DeleteQuery
}

export interface ResourceSpec<Row extends ResourceRow = ResourceRow, Create extends z.ZodObject = z.ZodObject, DeleteQuery extends z.ZodObject = z.ZodObject> {
  address: Addressable<Row> & { entity: 'blog' | 'author' | 'tag' }
  table: ResourceTable
  /** Collection path, e.g. /v1/blogs, and the name of the path parameter of one resource. */
  path: string
  param: string
  /** OpenAPI tag and the word for one resource in summaries. */
  openApiTag: string
  noun: string
  listDescription: string
  getDescription: string
  schemas: ResourceSchemas<Create, DeleteQuery>
  /** A page in slug order; `query` is the list query as its schema parsed it (filters, include). */
  list: (db: Executor, page: { limit: number, afterSlug?: string | undefined }, query: Record<string, unknown>) => Promise<Row[]>
  /** Adds what the get query asks for (include=count.posts) to one row. */
  expand?: (db: Executor, row: Row, query: Record<string, unknown>) => Promise<Row>
  toApi: (row: Row) => unknown
  /** What a response with these resources depends on (changes/surrogate-keys.ts). */
  surrogateKeys: (ids: string[], list: boolean) => string[]
  /** When the resource as the API shows it last changed (it may embed more than its own row). */
  lastModified: (row: Row) => Date
  /** The field a slug is derived from when none is given. */
  titleOf: (body: z.infer<Create>) => string
  deleteDescription: string
  toColumns: (body: Partial<z.infer<Create>>) => Record<string, unknown>
  /** Deals with the posts of a resource about to be deleted; returns their change-log entries. */
  beforeDelete: (tx: Transaction<DB>, row: Row, query: z.infer<DeleteQuery>) => Promise<ChangeEntry[]>
}
