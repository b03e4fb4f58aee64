import { Feed } from 'feed'
import type { PostRow } from '../../content/posts/posts.repository.ts'
import { postUrl } from '../../content/posts/posts.mapper.ts'
import type { FeedFormat } from './feeds.schemas.ts'

// RSS 2.0 and Atom 1.0 come from the maintained `feed` package; JSON Feed is its output brought
// up to version 1.1 (authors as a list, the language). Item ids are the post's URN, stable
// across edits and renames, so readers never see an edited post as new.

export const CONTENT_TYPES: Record<FeedFormat, string> = {
  json: 'application/json; charset=utf-8',
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  jsonfeed: 'application/feed+json; charset=utf-8'
}

/** Picks a format from the Accept header when `format=` is not given. */
export function negotiateFormat (accept: string | undefined): FeedFormat {
  const wanted = (accept ?? '').split(',').map((part) => {
    const [type = '', ...params] = part.trim().toLowerCase().split(';')
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    return { type: type.trim(), q: q === undefined ? 1 : Number(q.slice(2)) || 0 }
  }).filter((entry) => entry.q > 0).sort((a, b) => b.q - a.q)
  for (const { type } of wanted) {
    if (type === 'application/rss+xml') return 'rss'
    if (type === 'application/atom+xml') return 'atom'
    if (type === 'application/feed+json') return 'jsonfeed'
    if (type === 'application/json' || type === '*/*' || type === 'application/*') return 'json'
  }
  return 'json'
}

export interface FeedMeta {
  title: string
  description: string
  /** This feed's own URL (absolute), without format. */
  selfUrl: string
  /** The feed's language (a blog's, or the one filtered on); unset for feeds that mix languages. */
  language: string | undefined
  updated: Date
}

export function postUrn (id: string): string {
  return `urn:uuid:${id}`
}

export function renderFeed (format: Exclude<FeedFormat, 'json'>, meta: FeedMeta, rows: readonly PostRow[], urlTemplate: string, full: boolean): string {
  const withFormat = (f: string) => `${meta.selfUrl}${meta.selfUrl.includes('?') ? '&' : '?'}format=${f}`
  const feed = new Feed({
    id: meta.selfUrl,
    title: meta.title,
    description: meta.description,
    link: meta.selfUrl,
    language: meta.language,
    updated: meta.updated,
    generator: 'content-api',
    feedLinks: { rss: withFormat('rss'), atom: withFormat('atom'), json: withFormat('jsonfeed') },
    copyright: ''
  })
  for (const row of rows) {
    const link = postUrl(urlTemplate, row)
    feed.addItem({
      title: row.title,
      id: postUrn(row.id),
      guid: postUrn(row.id),
      link,
      date: row.updated_at,
      published: row.published_at ?? row.sort_time,
      description: row.excerpt ?? undefined,
      ...(full ? { content: row.body_html ?? '' } : {}),
      // The feed package's JSON output reads author[0] unguarded: a post with no byline gets none.
      ...(row.authors.length === 0 ? {} : { author: row.authors.map((author) => ({ name: author.name })) }),
      category: row.tags.map((tag) => ({ name: tag.name, term: tag.slug })),
      ...(row.lead_image_url === null ? {} : { image: { url: row.lead_image_url, type: imageType(row.lead_image_url) } })
    })
  }
  if (format === 'rss') return feed.rss2()
  if (format === 'atom') return feed.atom1()
  return toJsonFeed11(feed.json1(), rows, meta.language)
}

function imageType (url: string): string {
  const extension = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase()
  return extension === 'png' ? 'image/png' : extension === 'gif' ? 'image/gif' : extension === 'webp' ? 'image/webp' : 'image/jpeg'
}

function toJsonFeed11 (json1: string, rows: readonly PostRow[], language: string | undefined): string {
  const feed = JSON.parse(json1) as { items: Array<Record<string, unknown>>, [key: string]: unknown }
  feed.version = 'https://jsonfeed.org/version/1.1'
  if (language !== undefined) feed.language = language
  feed.items.forEach((item, index) => {
    const row = rows[index]
    delete item.author
    item.authors = row?.authors.map((author) => ({ name: author.name })) ?? []
    if (row?.lead_image_url != null) item.banner_image = row.lead_image_url
  })
  return JSON.stringify(feed)
}
