import { escapeAttribute } from 'entities'
import { Parser } from 'htmlparser2'
import parseSrcset from 'parse-srcset'
import { withConsoleLogSilenced } from './silenced.ts'

// An article's HTML is kept as the editor wrote its links: `/about`, `images/map.jpg` and
// `#notes` mean something on the publisher's own pages, where the frontend shows it, and the
// JSON API returns them so. A feed is read elsewhere (an aggregator, a partner's site, an app),
// where such a link leads nowhere and such an image does not load, and feed validators warn about
// every one (the W3C Feed Validator's "should not contain relative URL references"); Ghost's
// Content API returns them absolute, and its clients count on it. So the feeds and the Ghost
// layer resolve them against the article's own address, as a browser on that page would (the URL
// Standard's parser), as Ghost does. Atom's xml:base could say the base instead, but RSS and JSON
// Feed have nothing like it, and not every reader honours it.

/** Attributes of the sanitizer's allowlist (post-body.ts) that hold one URL. */
const URL_ATTRIBUTES = new Set(['href', 'src', 'cite'])
/** Attributes that hold a list of image candidates: `url [descriptor], ...` (HTML's srcset). */
const SRCSET_ATTRIBUTES = new Set(['srcset'])
// Whitespace is what the standards say it is, never JavaScript's `\s` or `trim()`, which also
// take U+00A0, U+2028, U+FEFF and the like. The URL Standard strips only C0 controls and spaces
// around a URL: to a browser, `href="&nbsp;javascript:alert(1)"` is a relative link to a path
// (harmless, and the sanitizer lets it through as one); trimmed first, it resolved to the
// script itself. HTML's attribute syntax and srcset know ASCII whitespace only.
/** Already absolute: the sanitizer keeps http, https and mailto URLs, and relative ones. */
// eslint-disable-next-line no-control-regex -- the URL Standard's leading C0 controls are the point
const ABSOLUTE = /^[\u0000-\u0020]*(?:https?:\/\/|mailto:)/i
/** An attribute name that holds URLs, at the end of the characters before an `=` (spaces skipped). */
const NAME_BEFORE_EQUALS = /(?:^|[^a-z0-9-])(href|src|cite|srcset)$/i
const ABSOLUTE_AFTER_EQUALS = /^[\t\n\f\r ]*["']?(?:https?:\/\/|mailto:)/i
const HTML_WHITESPACE = /[\t\n\f\r ]/
/** What a resolved reference may lead to: the schemes the sanitizer keeps. */
const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:'])

/**
 * Whether the HTML may hold a relative reference at all: most articles have none, and skip the
 * parse. It may say yes for none (then the parse finds nothing to change), never no for one.
 * It looks only around each `=` (rare in text), which is some twenty times faster on a 5 KB
 * article than one regular expression over all of it (8 µs).
 */
function mayBeRelative (html: string): boolean {
  for (let at = html.indexOf('='); at !== -1; at = html.indexOf('=', at + 1)) {
    let end = at
    while (end > 0 && HTML_WHITESPACE.test(html.charAt(end - 1))) end--
    // Seven characters: the longest name and the one before it.
    const name = NAME_BEFORE_EQUALS.exec(html.slice(Math.max(0, end - 7), end))?.[1]
    if (name === undefined) continue
    if (name.toLowerCase() === 'srcset' || !ABSOLUTE_AFTER_EQUALS.test(html.slice(at + 1, at + 16))) return true
  }
  return false
}

/**
 * `value` resolved against `base` by the URL Standard's parser, as a browser on the article's page
 * would; undefined when it cannot be, or when it leads anywhere but http, https or mailto (then
 * the attribute is dropped). Against an http(s) base a relative reference keeps that scheme: the
 * check is for any reading of a value that differs from the browser's, as trimming once did.
 */
function resolved (value: string, base: string): string | undefined {
  if (ABSOLUTE.test(value)) return value
  const url = URL.parse(value, base)
  return url !== null && SAFE_PROTOCOLS.has(url.protocol) ? url.href : undefined
}

/**
 * A srcset with each candidate's URL resolved (HTML's rules for parsing it: parse-srcset, which
 * sanitize-html uses too), or as it was when every one is absolute; undefined when none is left.
 */
function resolvedSrcset (value: string, base: string): string | undefined {
  const parsed = withConsoleLogSilenced(() => parseSrcset(value))
  if (parsed.every(({ url }) => ABSOLUTE.test(url))) return parsed.length === 0 ? undefined : value
  const candidates: string[] = []
  for (const { url, w, h, d } of parsed) {
    const absolute = resolved(url, base)
    if (absolute === undefined) continue
    candidates.push([absolute, w === undefined ? '' : `${w}w`, h === undefined ? '' : `${h}h`, d === undefined ? '' : `${d}x`].filter(Boolean).join(' '))
  }
  return candidates.length === 0 ? undefined : candidates.join(', ')
}

/**
 * `html` (an article body as stored) with every relative URL in its links, images, sources and
 * citations resolved against `base` (the article's address). Everything else is kept byte for
 * byte: only the attributes that change are written again.
 */
export function withAbsoluteUrls (html: string, base: string): string {
  if (!mayBeRelative(html)) return html
  const edits: Array<{ start: number, end: number, text: string }> = []
  const parser = new Parser({
    onattribute (name, value, quote) {
      const lower = name.toLowerCase()
      let next: string | undefined
      if (URL_ATTRIBUTES.has(lower)) next = resolved(value, base)
      else if (SRCSET_ATTRIBUTES.has(lower)) next = resolvedSrcset(value, base)
      else return
      if (next === value && quote === '"') return
      // startIndex is where the attribute's name starts, endIndex just past its value.
      const start = parser.startIndex
      const end = parser.endIndex
      edits.push({ start, end, text: next === undefined ? '' : `${name}="${escapeAttribute(next)}"` })
    }
  }, { decodeEntities: true, lowerCaseAttributeNames: false })
  parser.end(html)
  if (edits.length === 0) return html
  let out = ''
  let at = 0
  for (const edit of edits) {
    out += html.slice(at, edit.start) + edit.text
    at = edit.end
  }
  return out + html.slice(at)
}
