import { decodeHTML } from 'entities'
import { marked } from 'marked'
import sanitizeHtml from 'sanitize-html'
import { countWords } from './post-text.ts'
import { withConsoleLogSilenced } from './silenced.ts'

// Article HTML from editors' tools and ingest jobs is untrusted: it goes through a maintained
// sanitizer with an allowlist of what a news article needs, and nothing else survives.

// Video and social embeds are iframes from these hosts only.
const EMBED_HOSTS = ['www.youtube.com', 'www.youtube-nocookie.com', 'player.vimeo.com', 'platform.twitter.com', 'www.instagram.com']

const ARTICLE_HTML: sanitizeHtml.IOptions = {
  allowedTags: [
    'p', 'br', 'hr', 'h2', 'h3', 'h4', 'h5', 'h6', 'strong', 'b', 'em', 'i', 'u', 's', 'sub', 'sup', 'small', 'mark',
    'a', 'ul', 'ol', 'li', 'blockquote', 'q', 'cite', 'code', 'pre', 'abbr', 'time',
    'figure', 'figcaption', 'img', 'picture', 'source', 'iframe',
    'table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'caption'
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel', 'target'],
    img: ['src', 'srcset', 'sizes', 'alt', 'title', 'width', 'height', 'loading'],
    source: ['srcset', 'sizes', 'media', 'type'],
    iframe: ['src', 'width', 'height', 'title', 'allow', 'allowfullscreen', 'loading'],
    blockquote: ['cite'], q: ['cite'], abbr: ['title'], time: ['datetime'],
    th: ['colspan', 'rowspan', 'scope'], td: ['colspan', 'rowspan']
  },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'], iframe: ['https'], source: ['http', 'https'] },
  allowProtocolRelative: false,
  allowedIframeHostnames: EMBED_HOSTS,
  transformTags: {
    // The post title is the page's h1; headings in the body start at h2.
    h1: 'h2',
    a: (tagName, attribs) => ({ tagName, attribs: withSafeRel(attribs) })
  },
  disallowedTagsMode: 'discard'
}

// Targets that stay in the same browsing context; any other (_blank, _BLANK, a named window)
// opens a new one, which must not get a handle on the article's page. A browser compares the
// value as it is, in any ASCII case: " _self", "_self " and "\u00a0_self" are names of new
// windows, which Chromium opens with an opener (once trimmed here, they got no noopener). Its
// rel tokens are split on ASCII whitespace only: "noopener\u00a0x" is one token, not noopener.
const SAME_CONTEXT_TARGETS = ['_self', '_parent', '_top']
const ASCII_WHITESPACE = /[\t\n\f\r ]+/
const asciiLowerCase = (text: string) => text.replace(/[A-Z]/g, (letter) => letter.toLowerCase())

/**
 * A link that opens a new browsing context always gets rel="noopener noreferrer", and no link
 * keeps rel="opener", whatever the case of either attribute or its value.
 */
function withSafeRel (attribs: Record<string, string>): Record<string, string> {
  const target = attribs.target === undefined ? undefined : asciiLowerCase(attribs.target)
  const rel = (attribs.rel ?? '').split(ASCII_WHITESPACE).filter((token) => token !== '' && asciiLowerCase(token) !== 'opener')
  if (target !== undefined && target !== '' && !SAME_CONTEXT_TARGETS.includes(target)) {
    for (const token of ['noopener', 'noreferrer']) if (!rel.some((t) => asciiLowerCase(t) === token)) rel.push(token)
  }
  const { rel: _given, ...rest } = attribs
  return rel.length === 0 ? rest : { ...rest, rel: rel.join(' ') }
}

export function sanitizeArticleHtml (html: string): string {
  return withConsoleLogSilenced(() => sanitizeHtml(html, ARTICLE_HTML)).trim()
}

export function markdownToHtml (markdown: string): string {
  return marked.parse(markdown, { async: false, gfm: true })
}

const BLOCK_BOUNDARY = /<\/?(p|h[2-6]|li|ul|ol|blockquote|figure|figcaption|pre|table|tr|caption|hr)\b[^>]*>|<br\s*\/?>/gi

/** Plain text of sanitized HTML: for search, word counts and reading time. */
export function htmlToText (html: string): string {
  const withBreaks = html.replace(BLOCK_BOUNDARY, (tag) => `\n${tag}\n`)
  const text = sanitizeHtml(withBreaks, { allowedTags: [], allowedAttributes: {} })
  return decodeHTML(text).replace(/[ \t]+/g, ' ').replace(/\n\s*\n+/g, '\n\n').trim()
}

export interface ArticleBody { bodyHtml: string, bodyText: string, wordCount: number }

/** The HTML stored for a body written as Markdown or as HTML: rendered, then sanitized. */
export function prepareBodyHtml (input: { html?: string | undefined, markdown?: string | undefined }): string {
  return sanitizeArticleHtml(input.markdown !== undefined ? markdownToHtml(input.markdown) : (input.html ?? ''))
}

/** The fields derived from stored HTML: its text and word count, in time linear in its length. */
export function deriveBodyFields (bodyHtml: string): ArticleBody {
  const bodyText = htmlToText(bodyHtml)
  return { bodyHtml, bodyText, wordCount: countWords(bodyText) }
}

/** From what a client sent (HTML or Markdown) to the stored, derived body fields. */
export function prepareBody (input: { html?: string | undefined, markdown?: string | undefined }): ArticleBody {
  return deriveBodyFields(prepareBodyHtml(input))
}
