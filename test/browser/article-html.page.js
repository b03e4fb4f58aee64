/* global document, HTMLAnchorElement, HTMLImageElement, HTMLIFrameElement, HTMLQuoteElement, URL */
// Runs in the page (test/browser/article-html.ts puts it in the head, before any content): plain JavaScript,
// since the project's TypeScript has no DOM types.

const SAFE_ELEMENTS = new Set(['P', 'BR', 'HR', 'H2', 'H3', 'H4', 'H5', 'H6', 'STRONG', 'B', 'EM', 'I', 'U', 'S', 'SUB', 'SUP', 'SMALL', 'MARK', 'A',
  'UL', 'OL', 'LI', 'BLOCKQUOTE', 'Q', 'CITE', 'CODE', 'PRE', 'ABBR', 'TIME', 'FIGURE', 'FIGCAPTION', 'IMG', 'PICTURE', 'SOURCE', 'IFRAME', 'TABLE',
  'THEAD', 'TBODY', 'TFOOT', 'TR', 'TH', 'TD', 'CAPTION'])
const EMBED_HOSTS = new Set(['www.youtube.com', 'www.youtube-nocookie.com', 'player.vimeo.com', 'platform.twitter.com', 'www.instagram.com'])

// The payloads call print too: make it a dialog the test sees.
globalThis.print = () => globalThis.alert('print')

/** Each fragment as a div's innerHTML (scripts do not run so, handlers do), labelled by its index. */
globalThis.insertFragments = (fragments, start) => {
  document.body.replaceChildren()
  fragments.forEach((html, i) => {
    const div = document.createElement('div')
    div.setAttribute('data-output', `innerHTML ${start + i}`)
    div.innerHTML = html
    document.body.append(div)
  })
}

/** What in each [data-output] container could run script or frame another site, as this browser reads it. */
globalThis.judgeArticleHtml = () => {
  const found = []
  for (const container of document.querySelectorAll('[data-output]')) {
    const id = container.getAttribute('data-output')
    for (const element of container.querySelectorAll('*')) {
      const tag = element.tagName.toLowerCase()
      if (element.namespaceURI !== 'http://www.w3.org/1999/xhtml' || !SAFE_ELEMENTS.has(element.tagName)) found.push(`${id}: <${tag}> (${element.namespaceURI})`)
      // A link that opens a new window (the target, compared as this browser does) must not hand
      // it this page: noopener or noreferrer among the rel tokens this browser read.
      if (element instanceof HTMLAnchorElement && element.hasAttribute('target') && !['', '_self', '_parent', '_top'].includes(element.target.replace(/[A-Z]/g, (c) => c.toLowerCase())) &&
        !element.relList.contains('noopener') && !element.relList.contains('noreferrer')) found.push(`${id}: <a target="${element.target}"> opens a window with an opener`)
      for (const attribute of element.attributes) {
        if (/^on/i.test(attribute.name) || ['style', 'srcdoc', 'formaction', 'action', 'xlink:href', 'data'].includes(attribute.name)) found.push(`${id}: ${attribute.name} on <${tag}>`)
      }
      // What the browser itself resolved each URL to (an image's chosen srcset candidate among them).
      const urls = []
      if (element instanceof HTMLAnchorElement && element.hasAttribute('href')) urls.push(element.href)
      if ((element instanceof HTMLImageElement || element instanceof HTMLIFrameElement) && element.hasAttribute('src')) urls.push(element.src)
      if (element instanceof HTMLQuoteElement && element.hasAttribute('cite')) urls.push(element.cite)
      if (element instanceof HTMLImageElement && element.currentSrc !== '') urls.push(element.currentSrc)
      for (const url of urls) {
        let parsed
        try { parsed = new URL(url) } catch { continue }
        if (!['http:', 'https:', 'mailto:'].includes(parsed.protocol)) found.push(`${id}: <${tag}> leads to ${url.slice(0, 80)}`)
        if (element instanceof HTMLIFrameElement && (parsed.protocol !== 'https:' || !EMBED_HOSTS.has(parsed.hostname))) found.push(`${id}: <iframe> frames ${parsed.host}`)
      }
    }
  }
  return found
}
