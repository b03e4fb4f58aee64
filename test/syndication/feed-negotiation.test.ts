import { parseFeed } from 'feedsmith'
import Parser from 'rss-parser'
import t from 'tap'
import { newAuthor, newBlog, newPost } from '../helpers/factories.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// A feed URL without `format=` answers in the format the reader's Accept header asks for, by
// RFC 9110's rules (q values, then the more specific range). The headers below are the ones real
// fetchers send, copied from their sources, and each answer is read by parsers from npm
// (rss-parser, feedsmith), not by our code. Until 2026-12 a hand-written parser took the first
// range in q order: `application/xml, text/xml, */*` (scripts, older readers) and a browser's
// navigation got the compact JSON, which no feed reader reads.

const READERS: Array<{ who: string, accept: string, format: 'rss' | 'atom' | 'jsonfeed' | 'json' }> = [
  { who: 'Python feedparser (ACCEPT_HEADER)', accept: 'application/atom+xml,application/rdf+xml,application/rss+xml,application/x-netcdf,application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1', format: 'atom' },
  { who: 'SimplePie (WordPress, FreshRSS)', accept: 'application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, text/html;q=0.7, unknown/unknown;q=0.1, application/unknown;q=0.1, */*;q=0.1', format: 'atom' },
  { who: 'a reader naming RSS first', accept: 'application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5', format: 'rss' },
  { who: 'a script asking for any XML', accept: 'application/xml, text/xml, */*', format: 'rss' },
  { who: 'a client asking for XML alone', accept: 'application/xml', format: 'rss' },
  { who: 'text/xml alone', accept: 'text/xml', format: 'rss' },
  { who: "a browser's navigation (Chromium)", accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7', format: 'rss' },
  { who: 'a wildcard and a feed type at one q', accept: '*/*, application/rss+xml', format: 'rss' },
  { who: 'types in capitals, with parameters', accept: 'Application/Atom+XML; charset=utf-8', format: 'atom' },
  { who: 'a JSON Feed reader', accept: 'application/feed+json, application/json;q=0.9', format: 'jsonfeed' },
  { who: 'JSON refused, anything else', accept: 'application/json;q=0, */*', format: 'jsonfeed' },
  { who: 'RSS refused, Atom at a lower q', accept: 'application/rss+xml;q=0, application/atom+xml;q=0.5, application/json;q=0.1', format: 'atom' },
  { who: 'fetch() and most HTTP clients', accept: '*/*', format: 'json' },
  { who: 'an app asking for JSON', accept: 'application/json', format: 'json' },
  { who: 'JSON and RSS at one q, JSON named first', accept: 'application/json, application/rss+xml', format: 'json' },
  { who: 'nothing we make', accept: 'image/png', format: 'json' },
  { who: 'garbage', accept: ';;, =,q=x/\u0001, */*;q=abc', format: 'json' },
  { who: 'an empty header', accept: '', format: 'json' }
]

const CONTENT_TYPE = { rss: 'application/rss+xml', atom: 'application/atom+xml', jsonfeed: 'application/feed+json', json: 'application/json' } as const

t.test("each reader's Accept gets a feed it can read, and the cache keeps them apart", async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db, { slug: 'flag', title: 'Under The Black Flag' })
  const ann = await newAuthor(app.db, { slug: 'ann', name: 'Ann Writer' })
  await newPost(app.db, { blogId: blog.id, slug: 'one', title: 'One & <Only>', publishedAt: new Date(Date.UTC(2024, 4, 1)), authorIds: [ann.id] })

  const parser = new Parser()
  // Twice over: the second round is answered from the response cache, filled in the first by
  // other readers' Accept headers; each must still get its own format.
  for (const round of ['uncached', 'cached']) {
    for (const { who, accept, format } of READERS) {
      const res = await app.inject({ url: '/v1/blogs/flag/feed', headers: { accept } })
      const label = `${who} (${round})`
      t.equal(res.statusCode, 200, label)
      t.equal(res.headers['content-type'], `${CONTENT_TYPE[format]}; charset=utf-8`, label)
      t.match(res.headers.vary, /\bAccept\b/, `${label}: Vary names Accept`)
      if (format === 'rss' || format === 'atom') {
        t.same((await parser.parseString(res.body)).items.map((item) => item.title), ['One & <Only>'], label)
        t.equal(parseFeed(res.body).format, format, `${label}: feedsmith reads ${format}`)
      } else if (format === 'jsonfeed') {
        t.equal(parseFeed(res.body).format, 'json', `${label}: feedsmith reads JSON Feed`)
      } else {
        t.same(res.json().data.map((item: { title: string }) => item.title), ['One & <Only>'], label)
      }
    }
  }

  // `format=` overrides any Accept.
  const forced = await app.inject({ url: '/v1/blogs/flag/feed?format=atom', headers: { accept: 'application/rss+xml' } })
  t.equal(forced.headers['content-type'], 'application/atom+xml; charset=utf-8')
})
