import { DOMParser } from '@xmldom/xmldom'
import t from 'tap'
import { newApiKey, newBlog } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'
import { atomViolations, jsonFeedViolations, rssViolations } from '../helpers/feed-rules.ts'
import { htmlUrlReferences } from '../helpers/html-url-references.ts'
import { withAbsoluteUrls } from '../../src/content/posts/absolute-urls.ts'

// An article body keeps its links as the editor wrote them (the JSON API returns it so); every
// feed format resolves the relative ones against the article's address. The feeds' HTML is read
// back with parse5 (the WHATWG parser browsers follow), not with the parser that rewrote it.

const POST_URL = 'https://news.example.com/desk/2024/05/the-story'

/** The text of the first element `name` in namespace `ns` of an XML document, read by @xmldom/xmldom. */
const xmlText = (xml: string, ns: string, name: string): string =>
  new DOMParser().parseFromString(xml, 'text/xml').getElementsByTagNameNS(ns, name)[0]?.textContent ?? ''

// Every family of reference the sanitizer lets through: root-, path- and parent-relative,
// fragment-only, query-only, empty, a scheme without slashes, entities in the value, spaces around
// it, srcset lists (a comma inside a URL, width and density descriptors), citations; and what must
// stay as it is: absolute links, mailto, and text that only looks like an attribute.
const BODY = [
  '<p><a href="/about">root</a> <a href="../2023/old-story">parent</a> <a href="sidebar">path</a> <a href="#notes">fragment</a>',
  ' <a href="?page=2">query</a> <a href="">empty</a> <a href="https:elsewhere">no slashes</a> <a href="/search?q=a&amp;lang=fa">entities</a>',
  ' <a href=" /padded ">padded</a> <a href="/caf%C3%A9">encoded</a> <a href="/دانشگاه">Persian path</a></p>',
  '<figure><img src="images/map.jpg" srcset="images/map-1x.jpg 1x, /images/map,wide.jpg 2x, https://cdn.example.com/map.jpg 3x" alt="A map" />',
  '<picture><source srcset="/img/a.webp 480w, /img/b.webp 960w" type="image/webp" /></picture><figcaption>Map</figcaption></figure>',
  '<blockquote cite="/sources/interview">Quoted</blockquote><q cite="notes/q1">short</q>',
  '<p><a href="https://other.example.org/x">absolute</a> <a href="mailto:desk@news.example.com">mail</a> <a href="HTTP://LOUD.EXAMPLE/">upper</a></p>',
  '<p>Code: &lt;a href="/not-a-link"&gt; and href="/plain-text" in prose.</p>'
].join('')

t.test('every feed format resolves an article\'s relative links against its address; the JSON API keeps them as written', async (t) => {
  const { app } = await buildTestApp(t, { POST_URL_TEMPLATE: 'https://news.example.com/{blog}/{yyyy}/{mm}/{slug}' })
  await newBlog(app.db, { slug: 'desk', title: 'The Desk' })
  const writer = await newApiKey(app.db, ['content:write'])
  const created = await app.inject({
    method: 'POST',
    url: '/v1/posts',
    headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ blog: 'desk', slug: 'the-story', title: 'The story', body_html: BODY, status: 'published', published_at: '2024-05-01T10:00:00Z' })
  })
  t.equal(created.statusCode, 201, created.body)
  const post = created.json().data as { url: string, body_html: string }
  t.equal(post.url, POST_URL)
  const stored = post.body_html
  // What the sanitizer keeps (the input to the feeds): relative references survive it.
  const storedRefs = htmlUrlReferences(stored)
  t.equal(storedRefs.filter((ref) => ref.relative).length, 17, 'the stored body keeps its relative references (the empty href aside)')
  t.equal((await app.inject({ url: '/v1/blogs/desk/posts/the-story' })).json().data.body_html, stored, 'the JSON API returns the body as stored')

  // What each reference must become: the URL Standard's resolution against the post's address.
  const expected = storedRefs.map((ref) => ref.relative ? new URL(ref.value, POST_URL).href : ref.value)
  const contents: Record<string, string> = {}
  const rss = (await app.inject({ url: '/v1/feeds/latest?format=rss&content=full' })).body
  contents.rss = xmlText(rss, 'http://purl.org/rss/1.0/modules/content/', 'encoded')
  const atom = (await app.inject({ url: '/v1/feeds/latest?format=atom&content=full' })).body
  contents.atom = xmlText(atom, 'http://www.w3.org/2005/Atom', 'content')
  contents.jsonfeed = JSON.parse((await app.inject({ url: '/v1/feeds/latest?format=jsonfeed&content=full' })).body).items[0].content_html
  contents.json = (await app.inject({ url: '/v1/feeds/latest?format=json&content=full' })).json().data[0].content_html
  for (const [format, html] of Object.entries(contents)) {
    const refs = htmlUrlReferences(html)
    t.same(refs.map((ref) => ref.value), expected, `${format}: each reference resolved against the post's address, the absolute ones untouched`)
    t.same(refs.filter((ref) => ref.relative), [], `${format}: no relative reference left`)
    t.match(html, /href="\/plain-text" in prose/, `${format}: text that looks like an attribute is text`)
  }
  t.same(rssViolations(rss), [], 'RSS keeps its rules, the relative-reference one included')
  t.same(atomViolations(atom), [], 'Atom too')
  t.same(jsonFeedViolations((await app.inject({ url: '/v1/feeds/latest?format=jsonfeed&content=full' })).body), [], 'JSON Feed too')
})

t.test('a body without relative references goes out byte for byte; one that cannot be resolved loses the attribute', async (t) => {
  const absolute = '<p><a href="https://a.example/x?y=1&amp;z=2">a</a> <img src="https://i.example/a.jpg" srcset="https://i.example/a.jpg 1x, https://i.example/b.jpg 2x" alt="" /></p>'
  t.equal(withAbsoluteUrls(absolute, POST_URL), absolute)
  t.equal(withAbsoluteUrls('<p>No links at all.</p>', POST_URL), '<p>No links at all.</p>')
  // The first srcset candidate is absolute, the second relative: the list is rewritten.
  t.equal(withAbsoluteUrls('<img srcset="https://i.example/a.jpg 1x, b.jpg 2x" />', POST_URL), `<img srcset="https://i.example/a.jpg 1x, https://news.example.com/desk/2024/05/b.jpg 2x" />`)
  // The quick test that lets most articles skip the parse must never miss one.
  t.equal(withAbsoluteUrls('<a href          ="/x">x</a>', POST_URL), '<a href="https://news.example.com/x">x</a>', 'spaces before the =')
  t.equal(withAbsoluteUrls('<a HREF=/x>x</a>', POST_URL), '<a HREF="https://news.example.com/x">x</a>', 'an unquoted value, the name in capitals')
  t.equal(withAbsoluteUrls('<a data-href="/x" HREF = "https://x.example/">x</a> a=b', POST_URL), '<a data-href="/x" HREF = "https://x.example/">x</a> a=b', 'other attributes, and absolute ones, as they were')
  // A reference the URL parser refuses (a host with a forbidden code point) leads nowhere.
  t.equal(withAbsoluteUrls('<a href="http://exa mple.com/" title="t">x</a>', POST_URL), '<a href="http://exa mple.com/" title="t">x</a>', 'absolute by its scheme: left to the sanitizer, not this')
  t.equal(withAbsoluteUrls('<a href="//[bad" title="t">x</a>', POST_URL), '<a  title="t">x</a>', 'an unresolvable reference is dropped')
  // Whitespace is the URL Standard's (C0 controls and space), not JavaScript's: a no-break space
  // before a scheme makes a path, for a browser and so here (script-payloads.test.ts, the family).
  t.equal(withAbsoluteUrls('<a href="\u00a0javascript:alert(1)">x</a>', POST_URL), '<a href="https://news.example.com/desk/2024/05/%C2%A0javascript:alert(1)">x</a>', 'U+00A0 is no space to a URL')
  t.equal(withAbsoluteUrls('<img srcset="\ufeffjavascript:alert(1) 1x" />', POST_URL), '<img srcset="https://news.example.com/desk/2024/05/%EF%BB%BFjavascript:alert(1) 1x" />', 'nor U+FEFF, in a srcset')
})
