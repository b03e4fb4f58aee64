import t from 'tap'
import { searchableQuery } from '../../../src/content/posts/search-text.ts'
import { newApiKey, newBlog } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// A word has more than one spelling in Unicode: composed or decomposed (NFC é, NFD e + U+0301:
// text from macOS, PDFs, some Vietnamese keyboards; Korean as separate jamo), and compatibility
// forms (the ﬁ ligature, full-width ＡＢＣ, half-width ﾆｭｰｽ). Before the search_nfkc migration a
// post written in one spelling was not found by a query in another, whatever its language.
// Both sides are now NFKC; the post's own text stays as written.

const decomposed = (text: string) => text.normalize('NFD')

t.test('queries are put in NFKC; ASCII ones are left as they came', async (t) => {
  t.equal(searchableQuery(decomposed('Café')), 'Café')
  t.equal(searchableQuery('ﬁnance ＡＢＣ'), 'finance ABC')
  t.equal(searchableQuery('ﾆｭｰｽ'), '"ニュ ュー ース"', 'half-width katakana become full width, then pieces')
  t.equal(searchableQuery('coalition -Moscow'), 'coalition -Moscow')
})

t.test('through the API: a post is found whichever spelling it was written in and asked for in', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_ANONYMOUS: '100000', RATE_LIMIT_WRITE: '100000' })
  await newBlog(app.db, { slug: 'desk' })
  const writer = await newApiKey(app.db, ['content:write'])
  // [language, title as written, a word of it as readers type it]
  const cases: Array<[string, string, string]> = [
    ['fr', 'Le café de Hanoï', 'café'],
    ['vi', 'Tiếng Việt hôm nay', 'Tiếng Việt'],
    ['ko', '한국어 뉴스 속보', '뉴스'],
    ['de', 'Größe der Städte', 'Städte'],
    ['ja', 'ニュース速報', 'ニュース'],
    ['en', 'Financial News', 'financial']
  ]
  const spellings: Array<[string, (text: string) => string]> = [
    ['NFC', (text) => text.normalize('NFC')],
    ['NFD', decomposed],
    // Compatibility forms: full-width Latin, half-width katakana, the fi ligature.
    ['compatibility', (text) => text.replace(/[A-Za-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).replace('ニュース', 'ﾆｭｰｽ').replace(/fi/gi, 'ﬁ')]
  ]
  for (const [language, title, word] of cases) {
    for (const [writtenAs, write] of spellings) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/posts',
        headers: { authorization: `Bearer ${writer}` },
        payload: { blog: 'desk', title: write(title), body_markdown: `About ${write(title)}.`, language, status: 'published' }
      })
      t.equal(res.statusCode, 201, res.body.slice(0, 200))
      const post = res.json().data as { id: string, slug: string, title: string }
      t.equal(post.title, write(title), 'the title is stored as written')
      for (const [askedAs, ask] of spellings) {
        const found = await app.inject({ url: `/v1/posts?${new URLSearchParams({ q: ask(word), fields: 'slug' }).toString()}` })
        t.equal(found.statusCode, 200)
        t.ok((found.json().data as Array<{ slug: string }>).some((hit) => hit.slug === post.slug), `${language}: written ${writtenAs}, asked ${askedAs}: q=${ask(word)} finds "${write(title)}"`)
      }
      await app.inject({ method: 'DELETE', url: `/v1/posts/${post.id}`, headers: { authorization: `Bearer ${writer}` } })
    }
  }
})
