import { blogWebsite, type Links } from '../../content/common/site.ts'
import { cutText } from '../../content/common/text.ts'
import { withAbsoluteUrls } from '../../content/posts/absolute-urls.ts'
import { readingTimeMinutes } from '../../content/posts/post-text.ts'
import { postRowUrls } from '../../content/posts/posts.mapper.ts'
import type { PostRow, Summary } from '../../content/posts/posts.repository.ts'
import type { BlogRow } from '../../content/blogs/blogs.repository.ts'
import type { GhostOwnerRow } from './ghost.repository.ts'
import type { GhostPost } from './ghost.schemas.ts'

// This API's rows in Ghost's shapes. Ghost's excerpt is the custom excerpt, else the first 500
// characters of the plain text; `url` is the page on the website, as on a Ghost site.

const NO_SEO = {
  og_image: null, og_title: null, og_description: null, twitter_image: null, twitter_title: null, twitter_description: null,
  meta_title: null, meta_description: null
}

export interface GhostInclude { authors: boolean, tags: boolean, countPosts: boolean }

/** Where an author's or tag's page would be: on the website when one is known, else its API address. */
function ownerUrl (links: Links, kind: 'author' | 'tag', slug: string): string {
  const base = links.site.website
  return base === undefined ? `${links.apiBase}/v1/${kind}s/${encodeURIComponent(slug)}` : `${base}/${kind}/${encodeURIComponent(slug)}/`
}

function summaryTag (tag: Summary, links: Links) {
  return { id: tag.id, name: tag.name, slug: tag.slug, description: null, feature_image: null, visibility: 'public' as const, ...NO_SEO,
    codeinjection_head: null, codeinjection_foot: null, canonical_url: null, accent_color: null, url: ownerUrl(links, 'tag', tag.slug) }
}

function summaryAuthor (author: Summary, links: Links) {
  return { id: author.id, name: author.name, slug: author.slug, profile_image: null, cover_image: null, bio: null, website: null, location: null,
    facebook: null, twitter: null, meta_title: null, meta_description: null, url: ownerUrl(links, 'author', author.slug) }
}

export function toGhostPost (row: PostRow, links: Links, include: GhostInclude, formats: { html: boolean, plaintext: boolean }): GhostPost {
  const text = row.body_text ?? ''
  const url = postRowUrls(row, links).url
  const post: GhostPost = {
    id: row.id,
    uuid: row.id,
    title: row.title,
    slug: row.slug,
    // Ghost's Content API returns the links and images of `html` absolute, and its clients and
    // themes take them so: relative ones are resolved against the post's address.
    ...(formats.html ? { html: withAbsoluteUrls(row.body_html ?? '', url) } : {}),
    ...(formats.plaintext ? { plaintext: text } : {}),
    comment_id: row.id,
    feature_image: row.lead_image_url,
    feature_image_alt: row.lead_image_alt,
    feature_image_caption: row.lead_image_caption,
    featured: row.is_featured,
    visibility: 'public',
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    published_at: (row.published_at ?? row.sort_time).toISOString(),
    custom_excerpt: row.excerpt,
    codeinjection_head: null,
    codeinjection_foot: null,
    custom_template: null,
    canonical_url: row.canonical_url,
    url,
    excerpt: row.excerpt ?? cutText(text, 500),
    reading_time: readingTimeMinutes(row.word_count),
    access: true,
    comments: false,
    // Ghost's SEO fields are what the editor set (null otherwise): Ghost themes apply their own defaults.
    og_image: row.og_image_url,
    og_title: row.og_title,
    og_description: row.og_description,
    twitter_image: row.twitter_image_url,
    twitter_title: row.twitter_title,
    twitter_description: row.twitter_description,
    meta_title: row.meta_title,
    meta_description: row.meta_description,
    email_subject: null,
    frontmatter: null
  }
  if (include.tags) {
    post.tags = row.tags.map((tag) => summaryTag(tag, links))
    post.primary_tag = post.tags[0] ?? null
  }
  if (include.authors) {
    post.authors = row.authors.map((author) => summaryAuthor(author, links))
    post.primary_author = post.authors[0] ?? null
  }
  return post
}

export function toGhostAuthor (row: GhostOwnerRow, links: Links) {
  const website = row.links?.find((link) => /website|home/i.test(link.label))?.url ?? null
  const twitter = row.links?.find((link) => /^(x|twitter)$/i.test(link.label))?.url.replace(/^https?:\/\/(www\.)?(x|twitter)\.com\//, '@') ?? null
  const facebook = row.links?.find((link) => /facebook/i.test(link.label))?.url.replace(/^https?:\/\/(www\.)?facebook\.com\//, '') ?? null
  return {
    ...summaryAuthor(row, links),
    profile_image: row.avatar_url,
    bio: row.description === '' ? null : row.description,
    website,
    twitter,
    facebook,
    ...(row.post_count === undefined ? {} : { count: { posts: row.post_count } })
  }
}

export function toGhostTag (row: GhostOwnerRow, links: Links) {
  return {
    ...summaryTag(row, links),
    description: row.description === '' ? null : row.description,
    ...(row.post_count === undefined ? {} : { count: { posts: row.post_count } })
  }
}

/** A site's settings: one blog's (a Ghost site is one blog), or the network's. */
export function toGhostSettings (blog: BlogRow | undefined, links: Links) {
  const url = blog === undefined ? links.site.website ?? links.apiBase : blogWebsite(blog, links.site) ?? `${links.apiBase}/sites/${blog.slug}`
  return {
    title: blog?.title ?? 'All blogs',
    description: blog?.description ?? '',
    logo: blog?.logo_url ?? null,
    icon: blog?.icon_url ?? null,
    accent_color: null,
    cover_image: blog?.cover_image_url ?? null,
    facebook: blog?.social_accounts.find((account) => /facebook/i.test(account.label))?.url.replace(/^https?:\/\/(www\.)?facebook\.com\//, '') ?? null,
    twitter: blog?.social_accounts.find((account) => /^(x|twitter)$/i.test(account.label))?.url.replace(/^https?:\/\/(www\.)?(x|twitter)\.com\//, '@') ?? null,
    lang: blog?.language ?? 'en',
    locale: blog?.language ?? 'en',
    timezone: 'Etc/UTC',
    codeinjection_head: null,
    codeinjection_foot: null,
    navigation: [],
    secondary_navigation: [],
    ...NO_SEO,
    url
  }
}

/** Only the fields asked for (Ghost's `fields=`); unknown names are left out, as Ghost does. */
export function pickFields<T extends Record<string, unknown>> (item: T, fields: string[] | undefined): Partial<T> {
  if (fields === undefined) return item
  return Object.fromEntries(Object.entries(item).filter(([name]) => fields.includes(name))) as Partial<T>
}
