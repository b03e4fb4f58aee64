import { sql, type Transaction } from 'kysely'
import { uuidv7 } from 'uuidv7'
import { appendChanges } from '../../changes/change-log.repository.ts'
import { publicOpOf, type ChangeEntry, type ChangeOp, type FeedOwnersLeft } from '../../changes/vocabulary.ts'
import type { DB } from '../../db/schema.ts'
import { AppError, notFound, type InvalidParam } from '../../http/errors.ts'
import { preconditionFailed, satisfies, type VersionCondition } from '../../http/preconditions.ts'
import { BLOGS } from '../addressing/addressables.ts'
import { recordSlugRename, resolveIdsInOrder } from '../addressing/addressing.repository.ts'
import { findByReference } from '../addressing/find-or-redirect.ts'
import { isUuid } from '../addressing/identifiers.ts'
import { slugify, storeUnderFreeSlug } from '../addressing/slugs.ts'
import { pickDefined } from '../common/fields.ts'
import type { ArticleBody } from './post-body.ts'
import { seoColumns } from './post-seo.ts'
import type { CreatePostBody, UpdatePostBody } from './posts.schemas.ts'
import {
  findPostForWrite, insertPost, insertPostUnlessSlugTaken, postPublicity, replacePostAuthors, replacePostTags, takenPostSlugs, touchPosts, updatePost,
  type PostWriteRow
} from './posts.writes.repository.ts'

// Every function runs inside the caller's transaction: the post, its bylines, its tags and
// its change-log row are written together or not at all. A failure anywhere (an unknown
// author, a stale If-Match) throws, and the transaction leaves no trace.

type Tx = Transaction<DB>

// "Now" for a publish is the database's transaction time: the visibility check (published_at
// <= now()) in the same transaction then sees the post as public, whatever the clocks say.
const TRANSACTION_TIME = sql<Date>`now()`

async function resolveBlogId (tx: Tx, ref: string): Promise<string> {
  const blog = await findByReference(tx, BLOGS, ref)
  if (blog === undefined) {
    throw new AppError(422, 'unknown_reference', `No blog "${ref}".`, { errors: [{ path: 'body.blog', message: `no blog "${ref}"` }] })
  }
  return blog.id
}

/** Authors and tags by id or slug, in the order given; every unknown one is named in one 422. */
async function resolveRelated (tx: Tx, body: { authors?: string[] | undefined, tags?: string[] | undefined }) {
  const [authors, tags] = await Promise.all([
    body.authors === undefined ? undefined : resolveIdsInOrder(tx, 'authors', body.authors),
    body.tags === undefined ? undefined : resolveIdsInOrder(tx, 'tags', body.tags)
  ])
  const unknown: InvalidParam[] = [
    ...(authors ?? []).flatMap((id, i) => id === undefined ? [{ path: `body.authors.${i}`, message: `no author "${body.authors?.[i]}"` }] : []),
    ...(tags ?? []).flatMap((id, i) => id === undefined ? [{ path: `body.tags.${i}`, message: `no tag "${body.tags?.[i]}"` }] : [])
  ]
  if (unknown.length > 0) {
    throw new AppError(422, 'unknown_reference', `Unknown ${unknown.map((u) => u.message.slice(3)).join(', ')}; nothing was written.`, { errors: unknown })
  }
  const unique = (ids: Array<string | undefined> | undefined) => ids === undefined ? undefined : [...new Set(ids as string[])]
  return { authorIds: unique(authors), tagIds: unique(tags) }
}

/**
 * The columns a write sets; `derived` is the body as the body renderer made it (body-renderer.ts).
 * A lead image replaces the post's whole, or with `mergeLeadImage` (a PATCH sent as
 * application/merge-patch+json) sets the fields it gives and leaves the others.
 */
function contentColumns (body: UpdatePostBody, derived: ArticleBody | undefined, mergeLeadImage = false): Record<string, unknown> {
  const image = body.lead_image
  return pickDefined({
    title: body.title,
    subtitle: body.subtitle,
    excerpt: body.excerpt,
    body_html: derived?.bodyHtml,
    body_text: derived?.bodyText,
    word_count: derived?.wordCount,
    language: body.language,
    is_breaking: body.is_breaking,
    is_featured: body.is_featured,
    ...seoColumns(body.seo),
    ...(image === undefined
      ? {}
      : mergeLeadImage && image !== null
        ? leadImageColumns(image)
        : {
          lead_image_url: image?.url ?? null,
          lead_image_alt: image?.alt ?? null,
          lead_image_caption: image?.caption ?? null,
          lead_image_credit: image?.credit ?? null,
          lead_image_width: image?.width ?? null,
          lead_image_height: image?.height ?? null
        })
  })
}

function leadImageColumns (image: NonNullable<UpdatePostBody['lead_image']>): Record<string, unknown> {
  return pickDefined({
    lead_image_url: image.url,
    lead_image_alt: image.alt,
    lead_image_caption: image.caption,
    lead_image_credit: image.credit,
    lead_image_width: image.width,
    lead_image_height: image.height
  })
}

async function isPublic (tx: Tx, id: string): Promise<boolean> {
  return (await postPublicity(tx, [id]))[0]?.visible ?? false
}

interface PostChange {
  op?: ChangeOp
  /** The blog the post was in (see recordPostChange). */
  fromBlogId?: string
  /** The authors and tags the post had and has no more. */
  left?: FeedOwnersLeft
}

/**
 * `fromBlogId`: the blog the post was in. A post moved to another blog is a delete in the old
 * blog, then the change in the new one: a client that follows one blog (`/v1/changes?blog=`) sees
 * a post leave it as it sees one arrive. The delete announces no event (the change does), so
 * webhooks hear of a move once. `left`, for a post the public saw: whose feeds it left, which
 * its bylines as they are now no longer say (the WebSub publisher tells the hub of them).
 */
async function recordPostChange (tx: Tx, post: PostWriteRow, wasPublic: boolean, { op = 'upsert', fromBlogId = post.blog_id, left }: PostChange = {}): Promise<void> {
  const nowPublic = op === 'delete' ? false : await isPublic(tx, post.id)
  const change: ChangeEntry = {
    entityType: 'post',
    entityId: post.id,
    blogId: post.blog_id,
    op,
    publicOp: publicOpOf(wasPublic, nowPublic),
    event: nowPublic && !wasPublic ? 'post.published' : undefined,
    left: wasPublic ? left : undefined
  }
  const inOldBlog: ChangeEntry = { entityType: 'post', entityId: post.id, blogId: fromBlogId, op: 'delete', publicOp: wasPublic ? 'delete' : null, event: null }
  await appendChanges(tx, fromBlogId === post.blog_id ? [change] : [inOldBlog, change])
}

/**
 * Change-log entries for posts a write to their blog, author or tag is about to change (`upsert`,
 * and their version is bumped) or remove (`delete`). Call before changing them: whether the
 * public could see each one is read as it was.
 */
export async function postChangesFor (tx: Tx, postIds: readonly string[], op: ChangeOp): Promise<ChangeEntry[]> {
  const posts = await postPublicity(tx, postIds)
  if (op === 'upsert') await touchPosts(tx, postIds)
  return posts.map((post) => ({ entityType: 'post', entityId: post.id, blogId: post.blog_id, op, publicOp: post.visible ? op : null }))
}

/** A slug the client chose, or a 409 when another post of the blog has it. */
async function chosenSlug (tx: Tx, blogId: string, wanted: string, exceptId?: string): Promise<string> {
  if ((await takenPostSlugs(tx, blogId, [wanted], exceptId)).size > 0) throw new AppError(409, 'slug_taken', `Another post in this blog already has the slug "${wanted}".`)
  return wanted
}

export async function createPost (tx: Tx, body: CreatePostBody, rendered: ArticleBody | undefined): Promise<string> {
  const blogId = await resolveBlogId(tx, body.blog)
  const { authorIds, tagIds } = await resolveRelated(tx, body)
  const publishedAt = body.status === 'published' ? (body.published_at === undefined ? 'now' : new Date(body.published_at)) : null
  const columns = contentColumns(body, rendered)
  const values = (slug: string) => ({
    ...columns,
    body_html: columns.body_html ?? '',
    id: uuidv7(),
    blog_id: blogId,
    slug,
    status: publishedAt === null ? 'draft' : publishedAt !== 'now' && publishedAt.getTime() > Date.now() ? 'scheduled' : 'published',
    published_at: publishedAt === 'now' ? TRANSACTION_TIME : publishedAt
  })
  const post = body.slug !== undefined
    ? await insertPost(tx, values(await chosenSlug(tx, blogId, body.slug)))
    : await storeUnderFreeSlug(await slugify(body.title, 'post'), (candidates) => takenPostSlugs(tx, blogId, candidates), (slug) => insertPostUnlessSlugTaken(tx, values(slug)))
  await replacePostAuthors(tx, post.id, authorIds ?? [])
  await replacePostTags(tx, post.id, tagIds ?? [])
  await recordPostChange(tx, post, false)
  return post.id
}

async function loadPost (tx: Tx, id: string): Promise<PostWriteRow> {
  const post = isUuid(id) ? await findPostForWrite(tx, id.toLowerCase()) : undefined
  if (post === undefined) throw notFound(`Post "${id}"`)
  return post
}

/** Applies `values` under the If-Match version (when given), or throws 412. */
async function applyUpdate (tx: Tx, post: PostWriteRow, values: Record<string, unknown>, version: VersionCondition): Promise<PostWriteRow> {
  if (!satisfies(version, post.version)) throw preconditionFailed(post.version)
  const updated = await updatePost(tx, post.id, values, version)
  if (updated === undefined) throw preconditionFailed((await findPostForWrite(tx, post.id))?.version ?? post.version)
  return updated
}

/** `mergeLeadImage`: the body came as application/merge-patch+json (contentColumns). */
export async function editPost (tx: Tx, id: string, body: UpdatePostBody, rendered: ArticleBody | undefined, version: VersionCondition, mergeLeadImage = false): Promise<string> {
  const post = await loadPost(tx, id)
  if (mergeLeadImage && body.lead_image != null && body.lead_image.url === undefined && post.lead_image_url === null) {
    throw new AppError(422, 'lead_image_url_required', 'The post has no lead image for these fields to change: give lead_image.url too.',
      { errors: [{ path: 'body.lead_image.url', message: 'is required: the post has no lead image yet' }] })
  }
  const wasPublic = await isPublic(tx, post.id)
  const blogId = body.blog === undefined ? post.blog_id : await resolveBlogId(tx, body.blog)
  const { authorIds, tagIds } = await resolveRelated(tx, body)
  const slug = body.slug !== undefined || blogId !== post.blog_id
    ? await chosenSlug(tx, blogId, body.slug ?? post.slug, post.id)
    : undefined
  const updated = await applyUpdate(tx, post, { ...contentColumns(body, rendered, mergeLeadImage), ...pickDefined({ blog_id: blogId === post.blog_id ? undefined : blogId, slug }) }, version)
  const left = {
    authorIds: authorIds === undefined ? [] : await replacePostAuthors(tx, post.id, authorIds),
    tagIds: tagIds === undefined ? [] : await replacePostTags(tx, post.id, tagIds)
  }
  // The old address keeps working: within the blog it was in.
  if (updated.slug !== post.slug || updated.blog_id !== post.blog_id) {
    await recordSlugRename(tx, 'post', post.blog_id, post.slug, updated.slug, post.id)
  }
  await recordPostChange(tx, updated, wasPublic, { fromBlogId: post.blog_id, left })
  return post.id
}

/** Soft delete: a tombstone the change log and feeds see; the row stays for the record. */
export async function deletePost (tx: Tx, id: string, version: VersionCondition): Promise<void> {
  const post = await loadPost(tx, id)
  const wasPublic = await isPublic(tx, post.id)
  const updated = await applyUpdate(tx, post, { deleted_at: new Date() }, version)
  await recordPostChange(tx, updated, wasPublic, { op: 'delete' })
}

export async function publishPost (tx: Tx, id: string, at: string | undefined, version: VersionCondition): Promise<string> {
  const post = await loadPost(tx, id)
  const wasPublic = await isPublic(tx, post.id)
  const when = at === undefined ? undefined : new Date(at)
  const status = when !== undefined && when.getTime() > Date.now() ? 'scheduled' : 'published'
  const updated = await applyUpdate(tx, post, { status, published_at: when ?? TRANSACTION_TIME }, version)
  await recordPostChange(tx, updated, wasPublic)
  return post.id
}

export async function unpublishPost (tx: Tx, id: string, version: VersionCondition): Promise<string> {
  const post = await loadPost(tx, id)
  const wasPublic = await isPublic(tx, post.id)
  const updated = await applyUpdate(tx, post, { status: 'draft' }, version)
  await recordPostChange(tx, updated, wasPublic)
  return post.id
}
