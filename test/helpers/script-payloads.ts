import { parse, parseFragment, type DefaultTreeAdapterMap } from 'parse5'
import { srcsetUrls } from './html-url-references.ts'

// Attacks on article HTML by family, generated rather than listed, and an oracle that judges
// what comes out as a browser would read it: parse5 (the WHATWG tree builder browsers follow)
// for the markup, the URL Standard's parser (Node's URL) for every link. Neither is what the API
// sanitizes or rewrites with (sanitize-html and htmlparser2), so a disagreement between how the
// API reads HTML and how a browser does shows up here.

export interface ScriptPayload { family: string, html: string }

const SCHEMES = ['javascript:alert(1)', 'vbscript:msgbox(1)', 'data:text/html,<script>alert(1)</script>']

const hex = (code: number) => code.toString(16)
/** Characters JavaScript's `\s` and `trim()` take (and some invisible ones) that the URL Standard does not strip. */
const UNICODE_SPACES = [0x85, 0xa0, 0xad, 0x1680, 0x180e, ...Array.from({ length: 11 }, (_, i) => 0x2000 + i), 0x200b, 0x200c, 0x200d, 0x2028, 0x2029, 0x202f, 0x205f, 0x2060, 0x3000, 0xfeff]

/** A script URL written every way a browser may still read as one (or a parser may mistake for one). */
function obfuscatedSchemes (): string[] {
  const variants = new Set<string>()
  for (const url of SCHEMES) {
    const colon = url.indexOf(':')
    const name = url.slice(0, colon)
    const rest = url.slice(colon + 1)
    const spliced = (inside: string) => name.slice(0, 3) + inside + name.slice(3) + ':' + rest
    variants.add(url).add(url.toUpperCase()).add(name.replace(/[aeiou]/g, (c) => c.toUpperCase()) + ':' + rest)
    // C0 controls and space: browsers strip them around a URL and drop tabs and newlines inside.
    for (let code = 0; code <= 0x20; code++) {
      const raw = String.fromCharCode(code)
      variants.add(raw + url).add(spliced(raw)).add(name + raw + ':' + rest)
      variants.add(`&#${code};` + url).add(spliced(`&#x${hex(code)};`)).add(spliced(`&#${code}`)).add(spliced(`&#x0000${hex(code)};`))
    }
    // Unicode spaces and invisibles, raw and as character references, before and inside.
    for (const code of UNICODE_SPACES) {
      const raw = String.fromCharCode(code)
      variants.add(raw + url).add(`&#x${hex(code)};` + url).add(spliced(raw)).add(raw + raw + ' ' + url)
    }
    for (const entity of ['&nbsp;', '&shy;', '&ZeroWidthSpace;', '&NoBreak;', '&Tab;', '&NewLine;']) variants.add(entity + url).add(spliced(entity))
    // The colon written otherwise; the whole URL as references; full-width letters.
    for (const colonForm of ['&colon;', '&#58;', '&#x3a;', '&#X3A', '&#0000058', '\uff1a']) variants.add(name + colonForm + rest)
    variants.add([...url].map((c) => `&#${c.charCodeAt(0)};`).join('')).add([...url].map((c) => `&#x${hex(c.charCodeAt(0))}`).join(''))
    variants.add([...name].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('') + ':' + rest)
  }
  return [...variants]
}

/** Each way an allowed element carries a URL, with `url` written into it in each quoting style. */
function inUrlAttributes (url: string): string[] {
  const out: string[] = []
  for (const quote of ['"', '\'', '']) {
    // An unquoted value ends at whitespace or `>`; a quoted one at its quote.
    const value = quote === '' ? url.replace(/[\t\n\f\r >]/g, '') : url.replaceAll(quote, '')
    const v = `${quote}${value}${quote}`
    out.push(`<a href=${v}>x</a>`, `<img src=${v}>`, `<img srcset=${v}>`, `<img srcset="https://i.example/a.jpg 1x, ${value.replaceAll('"', '')} 2x">`,
      `<picture><source srcset=${v}><img src="https://i.example/a.jpg"></picture>`, `<blockquote cite=${v}>q</blockquote>`, `<q cite=${v}>q</q>`, `<iframe src=${v}></iframe>`)
  }
  return out
}

const INNER = ['<img src=x onerror=alert(1)>', '<script>alert(1)</script>', '<a href="javascript:alert(1)">x</a>']
/** Elements whose content browsers parse as text, or in another namespace, or not at all. */
const CONTAINERS = ['iframe', 'noscript', 'noembed', 'noframes', 'xmp', 'textarea', 'title', 'style', 'script', 'plaintext', 'template',
  'select', 'option', 'listing', 'svg', 'math', 'object', 'table', 'a', 'p', 'code', 'pre', 'td', 'caption', 'figure', 'picture', 'source', 'q']
const INTEGRATION_POINTS = ['mtext', 'mglyph', 'malignmark', 'annotation-xml encoding="text/html"', 'desc', 'foreignObject', 'style', 'title', 'table', 'mi', 'mo', 'ms', 'mn']

/** Markup that a parser other than the browser's may read differently: raw text, foreign content, comments, broken tags. */
function parserDifferentials (): string[] {
  const out: string[] = []
  for (const inner of INNER) {
    for (const tag of CONTAINERS) {
      out.push(`<${tag}>${inner}</${tag}>`, `<${tag} title="</${tag}>${inner}">`, `<${tag}><p title="</${tag}>${inner}">`, `<${tag}><!--</${tag}>${inner}-->`,
        `<${tag}>&lt;/${tag}&gt;${inner}`, `<${tag}><![CDATA[</${tag}>${inner}]]>`, `<${tag}></${tag} >${inner}`, `<${tag}></${tag.toUpperCase()}\t>${inner}`)
    }
    for (const root of ['svg', 'math']) {
      for (const point of INTEGRATION_POINTS) {
        const close = point.split(' ')[0]
        out.push(`<${root}><${point}><style>${inner}</style></${close}></${root}>`, `<${root}><${point}><table><mglyph><style>${inner}`,
          `<${root}></p><${point}><style><a title="</style>${inner}">`, `<form><${root}><${point}><form><mglyph><style></${root}>${inner}`,
          `<${root}><${point}><p><style><!--</style>${inner}-->`)
      }
    }
    out.push(`<!-->${inner}-->`, `<!--->${inner}-->`, `<!-- --!>${inner}-->`, `<?x>${inner}?>`, `<!x>${inner}`, `<![CDATA[>${inner}]]>`,
      `</x ${inner}>`, `<a title="&quot;>${inner}">x</a>`, `<a title='"'>${inner}'>x</a>`, `<p>a<x/>${inner}`, `<${inner}`, `<table><tr><td><svg><foreignObject>${inner}`)
  }
  out.push('<a title=`x`onmouseover=alert(1)>x</a>', '<a/href="javascript:alert(1)">x</a>', '<a href=x/onmouseover=alert(1)>x</a>', '<a\fhref="javascript:alert(1)">x</a>',
    '<img src=x onerror=alert(1)//', '<a href="https://x.example/" title="x"onclick=alert(1)>x</a>', '<img src="x` `<script>alert(1)</script>"` `>',
    '<a href="https://x.example/" title="x&#0;y">x</a>', '<img src=x o\u0000nerror=alert(1)>', '<img src=x onerror\u000c=alert(1)>', '<details open ontoggle=alert(1)>')
  return out
}

/** Iframe addresses that name an allowed embed host somewhere but lead elsewhere. */
const IFRAME_HOSTS = ['https://www.youtube.com.evil.example/', 'https://evil.example@www.youtube.com/', 'https://www.youtube.com@evil.example/',
  'https://www.youtube.com\\@evil.example/', 'https:\\\\evil.example\\www.youtube.com/', '//www.youtube.com/', '//evil.example/', 'https://www.youtube.com%2f@evil.example/',
  'https://www.youtube.com:443@evil.example/', 'http://www.youtube.com/', 'https://evil.example/?https://www.youtube.com/', 'https://www.youtube.com\t.evil.example/',
  'https://www.you\u00adtube.com/', 'https://ｗｗｗ.youtube.com.evil.example/', 'https://www.youtube.com\u3002evil.example/']

/** Links that may open a new window: keywords with spaces or case around them, names, and rel tokens written to look like noopener. */
function newWindowLinks (): string[] {
  const targets = ['_blank', '_BLANK', ' _self', '_self ', '\u00a0_self', '\t_top', '_parent\n', '_top\u200b', '_ſelf', 'news', '', '_self', '_top']
  const rels = ['', 'opener', 'OPENER nofollow', 'noopener\u00a0x', 'noreferrer\u2028', 'noopener', 'nofollow']
  return targets.flatMap((target) => rels.map((rel) => `<a href="https://x.example/" target="${target}"${rel === '' ? '' : ` rel="${rel}"`}>x</a>`))
}

/** The whole corpus, by family. */
export function scriptPayloads (): ScriptPayload[] {
  return [
    ...newWindowLinks().map((html) => ({ family: 'new windows', html })),
    ...obfuscatedSchemes().flatMap((url) => inUrlAttributes(url).map((html) => ({ family: 'script URLs', html }))),
    ...parserDifferentials().map((html) => ({ family: 'parser differentials', html })),
    ...IFRAME_HOSTS.flatMap((src) => [`<iframe src="${src}"></iframe>`, `<iframe src="https://www.youtube.com/embed/x" srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>`])
      .map((html) => ({ family: 'iframe hosts', html }))
  ]
}

// What an article may hold: harmless elements and attributes, links to http(s) and mail that
// open no window with a handle on the page, and frames from the embed hosts over https. Stated here as the property to check, not taken from
// the sanitizer's configuration.
const SAFE_ELEMENTS = new Set(['p', 'br', 'hr', 'h2', 'h3', 'h4', 'h5', 'h6', 'strong', 'b', 'em', 'i', 'u', 's', 'sub', 'sup', 'small', 'mark',
  'a', 'ul', 'ol', 'li', 'blockquote', 'q', 'cite', 'code', 'pre', 'abbr', 'time', 'figure', 'figcaption', 'img', 'picture', 'source', 'iframe',
  'table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'caption'])
const SAFE_ATTRIBUTES = new Set(['href', 'title', 'rel', 'target', 'src', 'srcset', 'sizes', 'alt', 'width', 'height', 'loading', 'media', 'type',
  'allow', 'allowfullscreen', 'cite', 'datetime', 'colspan', 'rowspan', 'scope'])
const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:'])
const EMBED_HOSTS = new Set(['www.youtube.com', 'www.youtube-nocookie.com', 'player.vimeo.com', 'platform.twitter.com', 'www.instagram.com'])
const HTML_NAMESPACE = 'http://www.w3.org/1999/xhtml'
/** Targets that keep a link in its own window, compared as browsers do: exactly, in any ASCII case. */
const SAME_WINDOW = new Set(['', '_self', '_parent', '_top'])
const asciiLowerCase = (text: string) => text.replace(/[A-Z]/g, (letter) => letter.toLowerCase())

interface Node { nodeName: string, tagName?: string, namespaceURI?: string, attrs?: Array<{ name: string, value: string }>, childNodes?: Node[], content?: Node }

/** How many URLs the oracle resolved: a check that looked at none proves nothing. */
export const oracleCounts = { urls: 0, elements: 0 }

/**
 * What in `html` could run script or load a frame from elsewhere on a page at `base`, read as a
 * browser reads it: once as a page's body (server-side rendering) and once as a div's innerHTML
 * (a frontend's component). Empty when nothing.
 */
export function harmfulParts (html: string, base: string): string[] {
  const found: string[] = []
  const check = (node: Node): void => {
    if (node.tagName !== undefined) {
      oracleCounts.elements++
      const tag = node.tagName
      if (node.namespaceURI !== HTML_NAMESPACE) found.push(`<${tag}> in ${node.namespaceURI ?? 'no namespace'}`)
      else if (!SAFE_ELEMENTS.has(tag)) found.push(`<${tag}>`)
      // A link that opens a new window must not hand it this page (reverse tabnabbing): noopener
      // or noreferrer among its rel tokens, split on ASCII whitespace.
      const target = node.attrs?.find((attribute) => attribute.name === 'target')?.value
      const rel = (node.attrs?.find((attribute) => attribute.name === 'rel')?.value ?? '').split(/[\t\n\f\r ]+/).map(asciiLowerCase)
      if (tag === 'a' && target !== undefined && !SAME_WINDOW.has(asciiLowerCase(target)) && !rel.includes('noopener') && !rel.includes('noreferrer')) {
        found.push(`<a target="${target}" rel="${rel.join(' ')}"> opens a window with an opener`)
      }
      for (const { name, value } of node.attrs ?? []) {
        if (!SAFE_ATTRIBUTES.has(name)) found.push(`<${tag} ${name}>`)
        const urls = name === 'srcset' ? srcsetUrls(value) : ['href', 'src', 'cite'].includes(name) ? [value] : []
        for (const text of urls) {
          oracleCounts.urls++
          const url = URL.parse(text, base)
          if (url === null) continue // leads nowhere: a browser does not follow it
          if (!SAFE_PROTOCOLS.has(url.protocol)) found.push(`<${tag} ${name}="${text}"> leads to ${url.protocol}`)
          if (tag === 'iframe' && name === 'src' && (url.protocol !== 'https:' || !EMBED_HOSTS.has(url.hostname))) found.push(`<iframe src="${text}"> frames ${url.host}`)
        }
      }
    }
    for (const child of node.childNodes ?? []) check(child)
    if (node.content !== undefined) check(node.content)
  }
  const page = parse(`<!DOCTYPE html><html><head></head><body>${html}</body></html>`) as unknown as Node
  const body = page.childNodes?.find((n) => n.nodeName === 'html')?.childNodes?.find((n) => n.nodeName === 'body')
  for (const child of body?.childNodes ?? []) check(child)
  const div = parseFragment('<div></div>').childNodes[0] as DefaultTreeAdapterMap['element']
  for (const child of (parseFragment(div, html, {}) as unknown as Node).childNodes ?? []) check(child)
  return found
}
