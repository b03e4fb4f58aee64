import { decodeHTML } from 'entities'
import { marked } from 'marked'
import sanitizeHtml from 'sanitize-html'
import { countWords } from './post-text.ts'

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
  // Links that open a new tab must not hand the article to the page they open.
  transformTags: {
    // The post title is the page's h1; headings in the body start at h2.
    h1: 'h2',
    a: (tagName, attribs) => attribs.target === '_blank'
      ? { tagName, attribs: { ...attribs, rel: 'noopener noreferrer' } }
      : { tagName, attribs }
  },
  disallowedTagsMode: 'discard'
}

export function sanitizeArticleHtml (html: string): string {
  return sanitizeHtml(html, ARTICLE_HTML).trim()
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

/** From what a client sent (HTML or Markdown) to the stored, derived body fields. */
export function prepareBody (input: { html?: string | undefined, markdown?: string | undefined }): ArticleBody {
  const raw = input.markdown !== undefined ? markdownToHtml(input.markdown) : (input.html ?? '')
  const bodyHtml = sanitizeArticleHtml(raw)
  const bodyText = htmlToText(bodyHtml)
  return { bodyHtml, bodyText, wordCount: countWords(bodyText) }
}
