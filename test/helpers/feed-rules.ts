import { DOMParser, type Element } from '@xmldom/xmldom'
import { htmlUrlReferences } from './html-url-references.ts'

// The rules of each feed format, as validators and readers apply them, checked on the document
// itself (parsed by @xmldom/xmldom, not by our code): RSS 2.0 (rssboard.org/rss-specification
// and its Best Practices Profile), Atom 1.0 (RFC 4287) and JSON Feed 1.1 (jsonfeed.org). Each
// returns the broken rules, so a test can show them all at once.

const ATOM_NS = 'http://www.w3.org/2005/Atom'
const RFC_822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} (GMT|[+-]\d{4})$/
const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
const EMAIL_AUTHOR = /^[^\s@]+@[^\s@]+\.[^\s@]+( \(.+\))?$/
const MEDIA_TYPE = /^[a-z]+\/[a-z0-9.+-]+$/

const isAbsoluteHttp = (value: string | null | undefined): boolean => value != null && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)
const children = (parent: Element, name: string, ns?: string): Element[] =>
  Array.from(parent.childNodes).filter((node): node is Element => node.nodeType === 1 && (ns === undefined ? (node as Element).nodeName === name : (node as Element).localName === name && (node as Element).namespaceURI === ns))
const text = (element: Element | undefined): string => element?.textContent?.trim() ?? ''

/** What the W3C Feed Validator warns of (ContainsRelRef): links and images in an item's HTML that only resolve on the publisher's own pages. */
function relativeReferences (html: string, at: string): string[] {
  const relative = htmlUrlReferences(html).filter((reference) => reference.relative)
  return relative.length === 0 ? [] : [`${at} should not contain relative URL references: ${relative.map((r) => `${r.element}[${r.attribute}]="${r.value}"`).join(', ')}`]
}

function parseXml (xml: string): { root: Element | undefined, errors: string[] } {
  const errors: string[] = []
  const document = new DOMParser({ onError: (level, message) => { if (level !== 'warning') errors.push(`XML ${level}: ${message}`) } }).parseFromString(xml, 'text/xml')
  return { root: document.documentElement ?? undefined, errors }
}

export function rssViolations (xml: string): string[] {
  const { root, errors: problems } = parseXml(xml)
  if (root === undefined || root.nodeName !== 'rss' || root.getAttribute('version') !== '2.0') return [...problems, 'root must be <rss version="2.0">']
  const channels = children(root, 'channel')
  if (channels.length !== 1) return [...problems, 'exactly one <channel>']
  const channel = channels[0] as Element
  for (const name of ['title', 'link', 'description']) if (text(children(channel, name)[0]) === '') problems.push(`channel <${name}> is required`)
  if (!isAbsoluteHttp(text(children(channel, 'link')[0]))) problems.push('channel <link> must be an absolute http(s) URL')
  const ttl = children(channel, 'ttl')[0]
  if (ttl !== undefined && !/^\d+$/.test(text(ttl))) problems.push('<ttl> must be a number of minutes')
  const period = channel.getElementsByTagNameNS('http://purl.org/rss/1.0/modules/syndication/', 'updatePeriod')[0]
  if (period !== undefined && !['hourly', 'daily', 'weekly', 'monthly', 'yearly'].includes(text(period))) problems.push('sy:updatePeriod must be hourly, daily, weekly, monthly or yearly')
  const self = children(channel, 'link', ATOM_NS).find((link) => link.getAttribute('rel') === 'self')
  if (!isAbsoluteHttp(self?.getAttribute('href'))) problems.push('atom:link rel="self" with an absolute href is recommended')
  for (const date of ['pubDate', 'lastBuildDate']) for (const element of children(channel, date)) if (!RFC_822.test(text(element))) problems.push(`channel <${date}> must be RFC 822: ${text(element)}`)
  const guids = new Set<string>()
  for (const [index, item] of children(channel, 'item').entries()) {
    const at = `item ${index + 1}`
    if (text(children(item, 'title')[0]) === '' && text(children(item, 'description')[0]) === '') problems.push(`${at}: a title or a description is required`)
    const guid = children(item, 'guid')[0]
    if (guid === undefined) problems.push(`${at}: <guid> is required (best practice)`)
    else {
      if (guids.has(text(guid))) problems.push(`${at}: guid repeats`)
      guids.add(text(guid))
      if (guid.getAttribute('isPermaLink') !== 'false' && !isAbsoluteHttp(text(guid))) problems.push(`${at}: a permalink guid must be a URL (or isPermaLink="false")`)
    }
    const link = children(item, 'link')[0]
    if (link !== undefined && !isAbsoluteHttp(text(link))) problems.push(`${at}: <link> must be absolute`)
    for (const pubDate of children(item, 'pubDate')) if (!RFC_822.test(text(pubDate))) problems.push(`${at}: <pubDate> must be RFC 822: ${text(pubDate)}`)
    for (const author of children(item, 'author')) if (!EMAIL_AUTHOR.test(text(author))) problems.push(`${at}: <author> must be an e-mail address: ${text(author)}`)
    const enclosures = children(item, 'enclosure')
    if (enclosures.length > 1) problems.push(`${at}: at most one <enclosure>`)
    for (const enclosure of enclosures) {
      if (!isAbsoluteHttp(enclosure.getAttribute('url'))) problems.push(`${at}: enclosure url must be absolute`)
      if (!/^\d+$/.test(enclosure.getAttribute('length') ?? '')) problems.push(`${at}: enclosure length must be a number of bytes`)
      if (!MEDIA_TYPE.test(enclosure.getAttribute('type') ?? '')) problems.push(`${at}: enclosure type must be a media type`)
    }
    for (const media of item.getElementsByTagNameNS('http://search.yahoo.com/mrss/', 'content')) {
      if (!isAbsoluteHttp(media.getAttribute('url'))) problems.push(`${at}: media:content url must be absolute`)
      const type = media.getAttribute('type')
      if (type !== null && !MEDIA_TYPE.test(type)) problems.push(`${at}: media:content type must be a media type`)
    }
    for (const creator of item.getElementsByTagNameNS('http://purl.org/dc/elements/1.1/', 'creator')) if (text(creator) === '') problems.push(`${at}: empty dc:creator`)
    for (const description of children(item, 'description')) problems.push(...relativeReferences(text(description), `${at}: <description>`))
    for (const content of item.getElementsByTagNameNS('http://purl.org/rss/1.0/modules/content/', 'encoded')) problems.push(...relativeReferences(text(content), `${at}: content:encoded`))
  }
  return problems
}

export function atomViolations (xml: string): string[] {
  const { root: feed, errors: problems } = parseXml(xml)
  if (feed === undefined || feed.localName !== 'feed' || feed.namespaceURI !== ATOM_NS) return [...problems, `root must be <feed xmlns="${ATOM_NS}">`]
  const one = (parent: Element, name: string, at: string) => {
    const found = children(parent, name, ATOM_NS)
    if (found.length !== 1) problems.push(`${at}: exactly one <${name}> (found ${found.length})`)
    return found[0]
  }
  const textConstruct = (element: Element | undefined, at: string) => {
    const type = element?.getAttribute('type') || 'text'
    if (!['text', 'html', 'xhtml'].includes(type)) problems.push(`${at}: type must be text, html or xhtml`)
  }
  const feedId = text(one(feed, 'id', 'feed'))
  if (!URL.canParse(feedId)) problems.push('feed <id> must be an IRI')
  textConstruct(one(feed, 'title', 'feed'), 'feed title')
  if (!RFC_3339.test(text(one(feed, 'updated', 'feed')))) problems.push('feed <updated> must be RFC 3339')
  const links = children(feed, 'link', ATOM_NS)
  if (!links.some((link) => link.getAttribute('rel') === 'self' && isAbsoluteHttp(link.getAttribute('href')))) problems.push('feed: link rel="self" with an absolute href is recommended')
  for (const link of links) if (!link.hasAttribute('href')) problems.push('every <link> needs href')
  const feedHasAuthor = children(feed, 'author', ATOM_NS).length > 0
  const ids = new Set<string>()
  for (const [index, entry] of children(feed, 'entry', ATOM_NS).entries()) {
    const at = `entry ${index + 1}`
    const id = text(one(entry, 'id', at))
    if (!URL.canParse(id)) problems.push(`${at}: <id> must be an IRI`)
    if (ids.has(id)) problems.push(`${at}: id repeats`)
    ids.add(id)
    textConstruct(one(entry, 'title', at), `${at} title`)
    if (!RFC_3339.test(text(one(entry, 'updated', at)))) problems.push(`${at}: <updated> must be RFC 3339`)
    for (const published of children(entry, 'published', ATOM_NS)) if (!RFC_3339.test(text(published))) problems.push(`${at}: <published> must be RFC 3339`)
    const authors = children(entry, 'author', ATOM_NS)
    if (authors.length === 0 && !feedHasAuthor) problems.push(`${at}: an <author>, or one on the feed, is required`)
    for (const author of authors) if (text(children(author, 'name', ATOM_NS)[0]) === '') problems.push(`${at}: author needs a <name>`)
    const entryLinks = children(entry, 'link', ATOM_NS)
    const content = children(entry, 'content', ATOM_NS)[0]
    if (content === undefined && !entryLinks.some((link) => (link.getAttribute('rel') ?? 'alternate') === 'alternate')) problems.push(`${at}: without <content>, a link rel="alternate" is required`)
    for (const summary of children(entry, 'summary', ATOM_NS)) textConstruct(summary, `${at} summary`)
    if (content !== undefined) textConstruct(content, `${at} content`)
    for (const html of [content, ...children(entry, 'summary', ATOM_NS)]) {
      if (html?.getAttribute('type') === 'html') problems.push(...relativeReferences(text(html), `${at}: <${html.localName}>`))
    }
    for (const link of entryLinks) {
      if (!isAbsoluteHttp(link.getAttribute('href'))) problems.push(`${at}: link href must be absolute`)
      const type = link.getAttribute('type')
      if (type !== null && !MEDIA_TYPE.test(type)) problems.push(`${at}: link type must be a media type: ${type}`)
    }
  }
  return problems
}

export function jsonFeedViolations (body: string): string[] {
  const problems: string[] = []
  let feed: Record<string, unknown>
  try {
    feed = JSON.parse(body) as Record<string, unknown>
  } catch {
    return ['not JSON']
  }
  if (feed.version !== 'https://jsonfeed.org/version/1.1') problems.push('version must be https://jsonfeed.org/version/1.1')
  if (typeof feed.title !== 'string' || feed.title === '') problems.push('title is required')
  for (const key of ['home_page_url', 'feed_url']) if (feed[key] !== undefined && !isAbsoluteHttp(feed[key] as string)) problems.push(`${key} must be an absolute URL`)
  if (!Array.isArray(feed.items)) return [...problems, 'items must be an array']
  const extensionsOk = (object: Record<string, unknown>, known: string[], at: string) => {
    for (const key of Object.keys(object)) if (!known.includes(key) && !key.startsWith('_')) problems.push(`${at}: "${key}" is not JSON Feed 1.1 (extensions start with _)`)
  }
  extensionsOk(feed, ['version', 'title', 'home_page_url', 'feed_url', 'description', 'user_comment', 'next_url', 'icon', 'favicon', 'authors', 'language', 'expired', 'hubs', 'items'], 'feed')
  for (const hub of (feed.hubs ?? []) as Array<Record<string, unknown>>) if (typeof hub.type !== 'string' || !isAbsoluteHttp(hub.url as string)) problems.push('hubs need type and url')
  const ids = new Set<string>()
  for (const [index, item] of (feed.items as Array<Record<string, unknown>>).entries()) {
    const at = `item ${index + 1}`
    if (typeof item.id !== 'string' || item.id === '') problems.push(`${at}: id is required (a string)`)
    if (ids.has(item.id as string)) problems.push(`${at}: id repeats`)
    ids.add(item.id as string)
    if (typeof item.content_html !== 'string' && typeof item.content_text !== 'string') problems.push(`${at}: content_html or content_text is required`)
    if (typeof item.content_html === 'string') problems.push(...relativeReferences(item.content_html, `${at}: content_html`))
    for (const key of ['url', 'image', 'external_url']) if (item[key] !== undefined && !isAbsoluteHttp(item[key] as string)) problems.push(`${at}: ${key} must be absolute`)
    for (const key of ['date_published', 'date_modified']) if (item[key] !== undefined && !RFC_3339.test(item[key] as string)) problems.push(`${at}: ${key} must be RFC 3339`)
    if (item.authors !== undefined) {
      if (!Array.isArray(item.authors)) problems.push(`${at}: authors must be an array`)
      else for (const author of item.authors as Array<Record<string, unknown>>) if (author.name === undefined && author.url === undefined && author.avatar === undefined) problems.push(`${at}: an author needs a name, url or avatar`)
    }
    if (item.tags !== undefined && !(Array.isArray(item.tags) && item.tags.every((tag) => typeof tag === 'string'))) problems.push(`${at}: tags must be strings`)
    extensionsOk(item, ['id', 'url', 'external_url', 'title', 'content_html', 'content_text', 'summary', 'image', 'banner_image', 'date_published', 'date_modified', 'authors', 'tags', 'language', 'attachments'], at)
  }
  return problems
}
