import { parseFragment } from 'parse5'

/** An attribute holding a URL in article HTML, as a reader of the feed would resolve it. */
export interface UrlReference { element: string, attribute: string, value: string, relative: boolean }

const URL_ATTRIBUTES = ['href', 'src', 'cite']
// http(s) with an authority, or mailto: anything else (`/x`, `x`, `#x`, `https:x`) a reader
// resolves against a base it has to guess.
const ABSOLUTE_REFERENCE = /^(https?:\/\/|mailto:)/i

/**
 * Every URL in the links, images, sources and citations of an HTML fragment, in document order
 * (srcset: each candidate's URL), parsed by parse5, the WHATWG parser browsers follow.
 */
export function htmlUrlReferences (html: string): UrlReference[] {
  const references: UrlReference[] = []
  type Node = { nodeName: string, attrs?: Array<{ name: string, value: string }>, childNodes?: Node[], content?: Node }
  const visit = (node: Node): void => {
    for (const { name, value } of node.attrs ?? []) {
      const values = URL_ATTRIBUTES.includes(name) ? [value] : name === 'srcset' ? value.split(/,\s+/).map((candidate) => candidate.trim().split(/\s+/)[0] ?? '') : []
      for (const url of values) references.push({ element: node.nodeName, attribute: name, value: url, relative: !ABSOLUTE_REFERENCE.test(url.trim()) })
    }
    for (const child of node.childNodes ?? node.content?.childNodes ?? []) visit(child)
  }
  visit(parseFragment(html) as unknown as Node)
  return references
}
