import type { ColumnType, Generated } from 'kysely'
import type { Scope } from '../access/scopes.ts'
import type { ChangeEvent, ChangeOp, EntityType } from '../changes/vocabulary.ts'
import type { PostStatus } from '../content/posts/post-status.ts'

// Table types for Kysely, kept by hand beside migrations/. Vocabularies (statuses, scopes, change
// ops) come from the modules that own them. A column the database fills in
// (defaults, identity, generated) is Generated<...> so inserts may leave it out.

type Timestamp = ColumnType<Date, Date | string, Date | string>
type CreatedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>

export interface BlogsTable {
  id: string
  slug: string
  title: string
  description: Generated<string>
  language: Generated<string>
  website_url: string | null
  post_url_template: string | null
  logo_url: string | null
  icon_url: string | null
  cover_image_url: string | null
  social_accounts: ColumnType<AuthorLink[], string | undefined, string>
  version: Generated<number>
  created_at: CreatedTimestamp
  updated_at: CreatedTimestamp
  /** The blog object of its posts' JSON as the API sends it, kept by a trigger (blog_parts_of_post_json). */
  json_summary: ColumnType<string | null, never, never>
  /** Its own post address template around the one {slug}, {blog} filled in; null unless the template is that simple (generated). */
  post_url_head: ColumnType<string | null, never, never>
  post_url_tail: ColumnType<string | null, never, never>
}

export interface AuthorLink {
  label: string
  url: string
}

export interface AuthorsTable {
  id: string
  slug: string
  name: string
  bio: Generated<string>
  avatar_url: string | null
  links: ColumnType<AuthorLink[], string | undefined, string>
  version: Generated<number>
  created_at: CreatedTimestamp
  updated_at: CreatedTimestamp
}

export interface TagsTable {
  id: string
  slug: string
  name: string
  description: Generated<string>
  version: Generated<number>
  created_at: CreatedTimestamp
  updated_at: CreatedTimestamp
}

export interface PostsTable {
  id: string
  blog_id: string
  slug: string
  title: string
  subtitle: string | null
  excerpt: string | null
  body_html: Generated<string>
  body_text: Generated<string>
  word_count: Generated<number>
  lead_image_url: string | null
  lead_image_alt: string | null
  lead_image_caption: string | null
  lead_image_credit: string | null
  lead_image_width: number | null
  lead_image_height: number | null
  language: Generated<string>
  status: Generated<PostStatus>
  is_breaking: Generated<boolean>
  is_featured: Generated<boolean>
  published_at: Timestamp | null
  created_at: CreatedTimestamp
  updated_at: CreatedTimestamp
  version: Generated<number>
  deleted_at: Timestamp | null
  search: ColumnType<string, never, never>
  meta_title: string | null
  meta_description: string | null
  canonical_url: string | null
  og_title: string | null
  og_description: string | null
  og_image_url: string | null
  twitter_title: string | null
  twitter_description: string | null
  twitter_image_url: string | null
  noindex: Generated<boolean>
  /** Kept by triggers from post_authors and authors (post_byline_summaries), json text as the API sends it (byline_summaries_as_sent); never written by code. */
  author_summaries: ColumnType<Array<{ id: string, slug: string, name: string }>, never, never>
  /** Kept by triggers from post_tags and tags. */
  tag_summaries: ColumnType<Array<{ id: string, slug: string, name: string }>, never, never>
}

/** Runs of a post's JSON as the API sends them, kept by a trigger from its row (post_json_runs_table); none for a post the background pass has not reached yet. */
export interface PostJsonRunsTable {
  post_id: ColumnType<string, never, never>
  json_summary: ColumnType<string, never, never>
  json_dates_seo: ColumnType<string, never, never>
  json_seo_rest: ColumnType<string, never, never>
}

/** Where the background pass that gives older posts their runs goes on from (json-runs-backfill.ts); no row once it is done. */
export interface PostJsonRunsBackfillTable {
  only_row: Generated<boolean>
  after_id: string
}

export interface PostAuthorsTable {
  post_id: string
  author_id: string
  position: number
  published_at: ColumnType<Date | null, never, never>
  /** The post's status is public and it is not deleted: copied by triggers, like published_at. */
  is_public: ColumnType<boolean, never, never>
}

export interface PostTagsTable {
  post_id: string
  tag_id: string
  position: number
  published_at: ColumnType<Date | null, never, never>
  /** The post's status is public and it is not deleted: copied by triggers, like published_at. */
  is_public: ColumnType<boolean, never, never>
}

/** Indexable public posts per blog and month of publication, kept by triggers on posts (the sitemap_months migration). */
export interface SitemapMonthsTable {
  blog_id: ColumnType<string, never, never>
  /** The month's first day (UTC). */
  month: ColumnType<Date, never, never>
  posts: ColumnType<number, never, never>
  lastmod: ColumnType<Date, never, never>
}

export interface SlugRedirectsTable {
  entity_type: EntityType
  scope_id: string | null
  old_slug: string
  target_id: string
  created_at: CreatedTimestamp
}

export interface ApiKeysTable {
  id: string
  name: string
  prefix: string
  secret_hash: string
  scopes: Scope[]
  created_at: CreatedTimestamp
  last_used_at: Timestamp | null
  revoked_at: Timestamp | null
}

export interface ChangesTable {
  seq: ColumnType<string, never, never>
  entity_type: EntityType
  entity_id: string
  blog_id: string | null
  op: ChangeOp
  public_op: ChangeOp | null
  occurred_at: CreatedTimestamp
  tx_id: ColumnType<string, never, never>
  event: ChangeEvent | null
  /** For a public post: the authors and tags whose lists it left with this change (a byline corrected). */
  left_author_ids: string[] | null
  left_tag_ids: string[] | null
  /** For a post: its authors and tags as the change left them (with the left_ ones, whose lists it touched); null on rows from before they were kept. */
  author_ids: string[] | null
  tag_ids: string[] | null
}

/** When the public last saw a post of each blog, author or tag change (and of any: the network's row): its feed's Last-Modified. Written by appendChanges. */
export interface PostListChangesTable {
  owner_type: 'blog' | 'author' | 'tag' | 'network'
  owner_id: string
  changed_at: Date
}

export interface ChangeCursorsTable {
  name: string
  seq: string
  updated_at: CreatedTimestamp
  /** Held by the process working from the cursor until then (the WebSub publisher's lease). */
  leased_until: Date | null
}

export interface ChangeFollowersTable {
  process_id: string
  applied_seq: string
  seen_at: CreatedTimestamp
}

export interface WebhooksTable {
  id: string
  url: string
  description: Generated<string>
  event_types: string[]
  secret: string
  is_active: Generated<boolean>
  version: Generated<number>
  created_at: CreatedTimestamp
  updated_at: CreatedTimestamp
}

export interface WebhookDeliveriesTable {
  id: string
  webhook_id: string
  change_seq: string
  event_type: string
  payload: ColumnType<unknown, string, string>
  status: Generated<'pending' | 'succeeded' | 'failed'>
  attempts: Generated<number>
  next_attempt_at: CreatedTimestamp
  last_status_code: number | null
  last_error: string | null
  created_at: CreatedTimestamp
  updated_at: CreatedTimestamp
  delivered_at: Timestamp | null
}

export interface IdempotencyKeysTable {
  api_key_id: string
  key: string
  method: string
  path: string
  request_hash: string
  response_status: number | null
  response_headers: ColumnType<Record<string, string> | null, string | null, string | null>
  response_body: string | null
  created_at: CreatedTimestamp
  expires_at: Timestamp
}

export interface DB {
  blogs: BlogsTable
  authors: AuthorsTable
  tags: TagsTable
  posts: PostsTable
  post_json_runs: PostJsonRunsTable
  post_json_runs_backfill: PostJsonRunsBackfillTable
  post_authors: PostAuthorsTable
  post_tags: PostTagsTable
  slug_redirects: SlugRedirectsTable
  sitemap_months: SitemapMonthsTable
  api_keys: ApiKeysTable
  changes: ChangesTable
  post_list_changes: PostListChangesTable
  change_cursors: ChangeCursorsTable
  change_followers: ChangeFollowersTable
  webhooks: WebhooksTable
  webhook_deliveries: WebhookDeliveriesTable
  idempotency_keys: IdempotencyKeysTable
}
