import { parseFragment } from 'parse5'

/** An attribute holding a URL in article HTML, as a reader of the feed would resolve it. */
export interface UrlReference { element: string, attribute: string, value: string, relative: boolean }

const URL_ATTRIBUTES = ['href', 'src', 'cite']
// http(s) with an authority, or mailto: anything else (`/x`, `x`, `#x`, `https:x`) a reader
// resolves against a base it has to guess. Leading C0 controls and spaces are what the URL
// Standard strips (not JavaScript's wider `\s`).
// eslint-disable-next-line no-control-regex -- the URL Standard's leading C0 controls are the point
const ABSOLUTE_REFERENCE = /^[\u0000-\u0020]*(https?:\/\/|mailto:)/i
const ASCII_WHITESPACE = /[\t\n\f\r ]/

/**
 * The URLs of a srcset's candidates, by HTML's "parse a srcset attribute" (its whitespace is
 * ASCII whitespace; a URL may hold commas, trailing ones end it; a candidate's descriptors run
 * to the next comma outside parentheses).
 */
export function srcsetUrls (value: string): string[] {
  const urls: string[] = []
  let at = 0
  while (at < value.length) {
    while (at < value.length && (ASCII_WHITESPACE.test(value.charAt(at)) || value.charAt(at) === ',')) at++
    if (at >= value.length) break
    const start = at
    while (at < value.length && !ASCII_WHITESPACE.test(value.charAt(at))) at++
    const url = value.slice(start, at)
    if (url.endsWith(',')) {
      urls.push(url.replace(/,+$/, ''))
      continue
    }
    urls.push(url)
    for (let depth = 0; at < value.length; at++) {
      const c = value.charAt(at)
      if (c === '(') depth++
      else if (c === ')') depth = Math.max(0, depth - 1)
      else if (c === ',' && depth === 0) break
    }
  }
  return urls
}

/**
 * Every URL in the links, images, sources and citations of an HTML fragment, in document order
 * (srcset: each candidate's URL), parsed by parse5, the WHATWG parser browsers follow.
 */
export function htmlUrlReferences (html: string): UrlReference[] {
  const references: UrlReference[] = []
  type Node = { nodeName: string, attrs?: Array<{ name: string, value: string }>, childNodes?: Node[], content?: Node }
  const visit = (node: Node): void => {
    for (const { name, value } of node.attrs ?? []) {
      const values = URL_ATTRIBUTES.includes(name) ? [value] : name === 'srcset' ? srcsetUrls(value) : []
      for (const url of values) references.push({ element: node.nodeName, attribute: name, value: url, relative: !ABSOLUTE_REFERENCE.test(url) })
    }
    for (const child of node.childNodes ?? node.content?.childNodes ?? []) visit(child)
  }
  visit(parseFragment(html) as unknown as Node)
  return references
}
