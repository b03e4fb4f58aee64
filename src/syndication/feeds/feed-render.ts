import fastUri from 'fast-uri'
import { XMLBuilder } from 'fast-xml-parser'
import Negotiator from 'negotiator'
import { HeaderMemo } from '../../http/header-memo.ts'
import type { Links } from '../../content/common/site.ts'
import { postRowUrls } from '../../content/posts/posts.mapper.ts'
import type { PostRow } from '../../content/posts/posts.repository.ts'
import { XML_INVALID } from '../../http/stored-text.ts'
import { withAbsoluteUrls } from '../../content/posts/absolute-urls.ts'
import type { FeedFormat } from './feeds.schemas.ts'

// RSS 2.0 and Atom 1.0 are built with fast-xml-parser's XMLBuilder, which escapes every text
// node and attribute for its context: a title holding `]]>`, markup or entities comes out as the same text, never
// as markup or an extra item. Plain text (titles, excerpts, names, captions) is sent as text
// (Atom type="text"); only the article body is HTML. JSON Feed 1.1 is JSON.stringify of its
// own shape. Item ids are the post's URN, stable across edits and renames, so readers never
// see an edited post as new.

export const CONTENT_TYPES: Record<FeedFormat, string> = {
  json: 'application/json; charset=utf-8',
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  jsonfeed: 'application/feed+json; charset=utf-8'
}

const NS = {
  atom: 'http://www.w3.org/2005/Atom',
  dc: 'http://purl.org/dc/elements/1.1/',
  content: 'http://purl.org/rss/1.0/modules/content/',
  media: 'http://search.yahoo.com/mrss/',
  sy: 'http://purl.org/rss/1.0/modules/syndication/'
}

// The media types a feed is offered in, as its Content-Type says (a range with `charset=utf-8`
// matches), most preferred first on a tie (`*/*` alone: the compact JSON). Generic XML
// (`application/xml`, `text/xml`) gets RSS 2.0: fetchers that name no feed type ask for XML
// (`application/xml, text/xml, */*` is common among scripts and older readers), and RSS is the
// XML feed every reader reads.
const FORMAT_OF_MEDIA_TYPE: ReadonlyArray<readonly [string, FeedFormat]> = [
  [CONTENT_TYPES.json, 'json'],
  [CONTENT_TYPES.jsonfeed, 'jsonfeed'],
  [CONTENT_TYPES.rss, 'rss'],
  [CONTENT_TYPES.atom, 'atom'],
  ['application/xml; charset=utf-8', 'rss'],
  ['text/xml; charset=utf-8', 'rss']
]
const OFFERED_MEDIA_TYPES = FORMAT_OF_MEDIA_TYPE.map(([type]) => type)
const FORMAT_OF = new Map(FORMAT_OF_MEDIA_TYPE)

// What each Accept value negotiates to; readers send few distinct ones.
const negotiatedFormats = new HeaderMemo<FeedFormat>(1000)

/**
 * Picks a format from the Accept header when `format=` is not given, by RFC 9110's rules
 * (negotiator, Express's): the highest q wins, then the more specific range (a wildcard and
 * `application/rss+xml` at one q is RSS), and `q=0` refuses a type. An Accept that allows none
 * of them gets the compact JSON, as no Accept does.
 */
export function negotiateFormat (accept: string | undefined): FeedFormat {
  if (accept === undefined || accept === '') return 'json'
  return negotiatedFormats.valueOf(accept, preferredFormat)
}

function preferredFormat (accept: string): FeedFormat {
  const [chosen] = new Negotiator({ headers: { accept } }).mediaTypes(OFFERED_MEDIA_TYPES)
  return (chosen === undefined ? undefined : FORMAT_OF.get(chosen)) ?? 'json'
}

export interface FeedMeta {
  title: string
  description: string
  /** This feed's own URL (absolute), without format: its other pairs as the client wrote them. */
  selfUrl: string
  /**
   * The URL as requested (absolute), when its query names the format it is answered in: then it
   * is the self link, so the link is the address the feed was fetched from, as a validator
   * compares them; a WebSub topic's self link is always the topic's own URL (hubUrl set).
   */
  requestedUrl?: string | undefined
  /** Where a reader goes from the feed: the blog's (or network's) website, else the API's page of it. */
  homeUrl: string
  /** How often a poller should come back (RSS ttl, sy:updatePeriod/Frequency). */
  ttlMinutes: number
  /** A WebSub hub that pushes this feed's updates, when one is configured. */
  hubUrl: string | undefined
  /** The feed's language (a blog's, or the one filtered on); unset for feeds that mix languages. */
  language: string | undefined
  updated: Date
}

export function postUrn (id: string): string {
  return `urn:uuid:${id}`
}

/** Stored text always fits XML (writes refuse what does not); anything that slipped in by another way is replaced, not emitted. */
function text (value: string): string {
  return value.replace(XML_INVALID, '\uFFFD')
}

function withFormat (selfUrl: string, format: string): string {
  return `${selfUrl}${selfUrl.includes('?') ? '&' : '?'}format=${format}`
}

/** The feed's rel="self" in a format: the address it was fetched from when that names it. */
function selfLink (meta: FeedMeta, format: Exclude<FeedFormat, 'json'>): string {
  return meta.hubUrl === undefined && meta.requestedUrl !== undefined ? meta.requestedUrl : withFormat(meta.selfUrl, format)
}

function imageType (url: string): string {
  const extension = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase()
  return extension === 'png' ? 'image/png' : extension === 'gif' ? 'image/gif' : extension === 'webp' ? 'image/webp' : 'image/jpeg'
}

export function renderFeed (format: Exclude<FeedFormat, 'json'>, meta: FeedMeta, rows: readonly PostRow[], links: Links, full: boolean): string {
  if (format === 'rss') return renderRss(meta, rows, links, full)
  if (format === 'atom') return renderAtom(meta, rows, links, full)
  return renderJsonFeed(meta, rows, links, full)
}

/** The feed URL in a format; the hub and self links a WebSub subscriber needs (also sent as Link headers). */
export function feedUrl (meta: Pick<FeedMeta, 'selfUrl'>, format: Exclude<FeedFormat, 'json'>): string {
  return withFormat(meta.selfUrl, format)
}

type XmlNode = Record<string, unknown>

/** A text element, with attributes when given: { '#text': ..., '@_name': ... }. */
function textNode (value: string, attributes: Record<string, string> = {}): XmlNode | string {
  const entries = Object.entries(attributes)
  return entries.length === 0 ? text(value) : { '#text': text(value), ...Object.fromEntries(entries.map(([name, v]) => [`@_${name}`, text(v)])) }
}

function attributesOf (attributes: Record<string, string>): XmlNode {
  return Object.fromEntries(Object.entries(attributes).map(([name, value]) => [`@_${name}`, text(value)]))
}

/** Drops the entries a feed leaves out (undefined), so no empty element is written for them. */
function present (node: Record<string, unknown>): XmlNode {
  return Object.fromEntries(Object.entries(node).filter(([, value]) => value !== undefined))
}

// fast-xml-parser's builder escapes &, <, >, quotes and apostrophes in every text node and
// attribute, including text that merely looks like an entity (`&amp;` stays the text "&amp;").
// Its default writes an attribute whose value is the text "true" as a bare name, HTML's boolean
// attribute, which XML does not have: a tag named "true" made `<category term="..." label/>` and
// the whole feed unreadable (found by the Big List of Naughty Strings, test/heavy/
// naughty-strings.test.ts). Every attribute here carries text, so each is written whole.
const xml = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', textNodeName: '#text', format: true, suppressEmptyNode: true, suppressBooleanAttributes: false })

function document (root: XmlNode): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${xml.build(root) as string}`
}

/** The lead image with its words as Media RSS (caption, credit, alt text), in RSS and in Atom alike. */
function mediaContent (row: PostRow): XmlNode | undefined {
  const image = row.lead_image_url
  if (image === null) return undefined
  return present({
    ...attributesOf({
      url: image,
      medium: 'image',
      type: imageType(image),
      ...(row.lead_image_width === null ? {} : { width: String(row.lead_image_width) }),
      ...(row.lead_image_height === null ? {} : { height: String(row.lead_image_height) })
    }),
    'media:description': row.lead_image_caption === null ? undefined : textNode(row.lead_image_caption, { type: 'plain' }),
    'media:credit': row.lead_image_credit === null ? undefined : textNode(row.lead_image_credit),
    'media:text': row.lead_image_alt === null ? undefined : textNode(row.lead_image_alt, { type: 'plain' })
  })
}

function renderRss (meta: FeedMeta, rows: readonly PostRow[], links: Links, full: boolean): string {
  const items = rows.map((row) => {
    const image = row.lead_image_url
    const url = postRowUrls(row, links).url
    return present({
      title: textNode(row.title),
      link: textNode(url),
      guid: textNode(postUrn(row.id), { isPermaLink: 'false' }),
      pubDate: textNode((row.published_at ?? row.sort_time).toUTCString()),
      description: row.excerpt === null ? undefined : textNode(row.excerpt),
      'content:encoded': full ? textNode(withAbsoluteUrls(row.body_html ?? '', url)) : undefined,
      // <author> must be an e-mail address in RSS; names go in dc:creator, one per author.
      'dc:creator': row.authors.length === 0 ? undefined : row.authors.map((author) => textNode(author.name)),
      category: row.tags.length === 0 ? undefined : row.tags.map((tag) => textNode(tag.name)),
      // The RSS Best Practices Profile: length 0 when the size is not known.
      enclosure: image === null ? undefined : attributesOf({ url: image, type: imageType(image), length: '0' }),
      'media:content': mediaContent(row)
    })
  })
  return document({
    rss: {
      ...attributesOf({ version: '2.0', 'xmlns:atom': NS.atom, 'xmlns:dc': NS.dc, 'xmlns:content': NS.content, 'xmlns:media': NS.media, 'xmlns:sy': NS.sy }),
      channel: present({
        title: textNode(meta.title),
        link: textNode(meta.homeUrl),
        description: textNode(meta.description || meta.title),
        language: meta.language === undefined ? undefined : textNode(meta.language),
        lastBuildDate: textNode(meta.updated.toUTCString()),
        generator: 'content-api',
        ttl: String(meta.ttlMinutes),
        // The same advice for pollers that read the Syndication module instead of ttl.
        'sy:updatePeriod': 'hourly',
        'sy:updateFrequency': String(Math.max(1, Math.round(60 / meta.ttlMinutes))),
        'atom:link': [
          attributesOf({ href: selfLink(meta, 'rss'), rel: 'self', type: 'application/rss+xml' }),
          ...(meta.hubUrl === undefined ? [] : [attributesOf({ href: meta.hubUrl, rel: 'hub' })])
        ],
        item: items
      })
    }
  })
}

function renderAtom (meta: FeedMeta, rows: readonly PostRow[], links: Links, full: boolean): string {
  const entries = rows.map((row) => {
    const url = postRowUrls(row, links).url
    return present({
      id: textNode(postUrn(row.id)),
      title: textNode(row.title, { type: 'text' }),
      link: [
        attributesOf({ rel: 'alternate', type: 'text/html', href: url }),
        ...(row.lead_image_url === null ? [] : [attributesOf({ rel: 'enclosure', type: imageType(row.lead_image_url), href: row.lead_image_url })])
      ],
      updated: textNode(row.updated_at.toISOString()),
      published: textNode((row.published_at ?? row.sort_time).toISOString()),
      author: row.authors.length === 0 ? undefined : row.authors.map((author) => ({ name: textNode(author.name) })),
      category: row.tags.length === 0 ? undefined : row.tags.map((tag) => attributesOf({ term: tag.slug, label: tag.name })),
      summary: row.excerpt === null ? undefined : textNode(row.excerpt, { type: 'text' }),
      content: full ? textNode(withAbsoluteUrls(row.body_html ?? '', url), { type: 'html' }) : undefined,
      'media:content': mediaContent(row)
    })
  })
  return document({
    feed: present({
      ...attributesOf({ xmlns: NS.atom, 'xmlns:media': NS.media, ...(meta.language === undefined ? {} : { 'xml:lang': meta.language }) }),
      // RFC 3986's normal form (escapes in upper case, unreserved characters unescaped, `[`
      // and `]` escaped): an id is compared as a string, and validators warn about one that is
      // not in normal form. The self link stays the address as fetched (selfLink).
      id: textNode(fastUri.normalize(meta.selfUrl)),
      title: textNode(meta.title, { type: 'text' }),
      subtitle: meta.description === '' ? undefined : textNode(meta.description, { type: 'text' }),
      updated: textNode(meta.updated.toISOString()),
      link: [
        attributesOf({ rel: 'self', type: 'application/atom+xml', href: selfLink(meta, 'atom') }),
        attributesOf({ rel: 'alternate', href: meta.homeUrl }),
        ...(meta.hubUrl === undefined ? [] : [attributesOf({ rel: 'hub', href: meta.hubUrl })])
      ],
      generator: 'content-api',
      // Every entry needs an author (RFC 4287 4.1.1): the feed's own stands in for entries with none.
      author: rows.some((row) => row.authors.length === 0) ? { name: textNode(meta.title) } : undefined,
      entry: entries
    })
  })
}

function renderJsonFeed (meta: FeedMeta, rows: readonly PostRow[], links: Links, full: boolean): string {
  return JSON.stringify({
    version: 'https://jsonfeed.org/version/1.1',
    title: meta.title,
    home_page_url: meta.homeUrl,
    feed_url: selfLink(meta, 'jsonfeed'),
    ...(meta.hubUrl === undefined ? {} : { hubs: [{ type: 'WebSub', url: meta.hubUrl }] }),
    ...(meta.description === '' ? {} : { description: meta.description }),
    ...(meta.language === undefined ? {} : { language: meta.language }),
    items: rows.map((row) => {
      const url = postRowUrls(row, links).url
      return {
        id: postUrn(row.id),
        url,
        title: row.title,
        ...(row.excerpt === null ? {} : { summary: row.excerpt }),
        // One of content_html and content_text is required: the article with content=full,
        // otherwise the excerpt (or the title) as text.
        ...(full ? { content_html: withAbsoluteUrls(row.body_html ?? '', url) } : { content_text: row.excerpt ?? row.title }),
        ...(row.lead_image_url === null
          ? {}
          : {
              image: row.lead_image_url,
              // JSON Feed has no field for an image's words; extensions start with "_" (JSON Feed 1.1).
              _lead_image: present({
                alt: row.lead_image_alt ?? undefined,
                caption: row.lead_image_caption ?? undefined,
                credit: row.lead_image_credit ?? undefined,
                width: row.lead_image_width ?? undefined,
                height: row.lead_image_height ?? undefined
              })
            }),
        date_published: (row.published_at ?? row.sort_time).toISOString(),
        date_modified: row.updated_at.toISOString(),
        authors: row.authors.map((author) => ({ name: author.name })),
        tags: row.tags.map((tag) => tag.name)
      }
    })
  })
}
