import t from 'tap'
import { newApiKey, newBlog, newPost } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// Full-text search in each post's own language, on real sentences in five scripts: every post
// is indexed with its language's text-search configuration (stems, stop words), and a query is
// parsed the same way, so inflected forms find their lemma. Runs on whichever database the suite
// uses (PostgreSQL or the embedded one): both ship the same configurations.

const POSTS = [
  { slug: 'en', language: 'en', bodyText: 'The Russian Foreign Ministry says Moscow will not join the coalition against the Islamic State group.' },
  { slug: 'ru', language: 'ru', bodyText: 'Министерство иностранных дел России заявило, что Москва не войдёт в коалицию против группировки «Исламское государство».' },
  { slug: 'fr', language: 'fr', bodyText: 'Le ministère russe des Affaires étrangères affirme que Moscou ne rejoindra pas la coalition contre le groupe État islamique.' },
  { slug: 'ar', language: 'ar', bodyText: 'وزارة الخارجية الروسية تقول إن موسكو لن تنضم إلى التحالف ضد تنظيم الدولة الإسلامية' },
  { slug: 'el', language: 'el', bodyText: 'Το ρωσικό υπουργείο Εξωτερικών δηλώνει ότι η Μόσχα δεν θα συμμετάσχει στον συνασπισμό κατά του Ισλαμικού Κράτους.' },
  { slug: 'fa', language: 'fa', bodyText: 'وزارت امور خارجه روسیه می‌گوید مسکو به ائتلاف علیه گروه دولت اسلامی نمی‌پیوندد' }
]

t.test('search finds inflected forms in each post\'s own language', async (t) => {
  const { app } = await buildTestApp(t)
  const blog = await newBlog(app.db, { slug: 'world' })
  for (const post of POSTS) await newPost(app.db, { blogId: blog.id, slug: post.slug, title: `Report (${post.language})`, language: post.language, bodyText: post.bodyText })
  const search = async (q: string, language?: string) => {
    const res = await app.inject({ url: `/v1/posts?q=${encodeURIComponent(q)}${language === undefined ? '' : `&language=${language}`}&fields=slug` })
    t.equal(res.statusCode, 200, res.body)
    return res.json().data.map((post: { slug: string }) => post.slug).sort()
  }

  // Inflected forms: the query word is not the form in the text.
  t.same(await search('министерства'), ['ru'], 'Russian: the genitive finds the nominative (министерство)')
  t.same(await search('коалиции'), ['ru'], 'Russian: коалицию and коалиции share a stem')
  t.same(await search('ministries'), ['en'], 'English: plural finds singular')
  t.same(await search('joining'), ['en'])
  t.same(await search('ministères'), ['fr'], 'French: plural finds singular')
  t.same(await search('υπουργείου'), ['el'], 'Greek: the genitive finds the nominative')
  t.same(await search('συνασπισμού'), ['el'])
  t.same(await search('الخارجية'), ['ar'], 'Arabic: the stemmed form')
  t.same(await search('روسیه'), ['fa'], 'Persian (no configuration: simple): the exact word')

  // Stop words are each language's own.
  t.same(await search('des'), [], 'a French stop word matches no French post (an English index would have kept it)')
  t.same(await search('the'), [], 'nor an English one any post')
  t.same(await search('des Affaires étrangères'), ['fr'], 'stop words drop out of a phrase, the rest still finds')

  // With language=, the query is parsed in that language only.
  t.same(await search('министерства', 'ru'), ['ru'])
  t.same(await search('министерства', 'en'), [])
  t.same(await search('coalition', 'fr'), ['fr'])
  t.same(await search('coalition'), ['en', 'fr'], 'the same word in two languages')
  t.same(await search('coalition -Moscou'), ['en'], 'exclusion works in each post\'s own language')

  // Relevance sorting and its cursor work with the per-language rank.
  const ranked = await app.inject({ url: `/v1/posts?q=${encodeURIComponent('coalition')}&sort=relevance&limit=1` })
  t.equal(ranked.statusCode, 200)
  const next = await app.inject({ url: `/v1/posts?q=${encodeURIComponent('coalition')}&sort=relevance&limit=1&cursor=${ranked.json().meta.next_cursor}` })
  t.same([ranked.json().data[0].slug, next.json().data[0].slug].sort(), ['en', 'fr'])

  // Editing a post's language re-indexes it.
  const writer = await newApiKey(app.db, ['content:write'])
  const fr = await app.db.selectFrom('posts').select('id').where('slug', '=', 'fr').executeTakeFirstOrThrow()
  const edited = await app.inject({ method: 'PATCH', url: `/v1/posts/${fr.id}`, headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' }, payload: { language: 'en' } })
  t.equal(edited.statusCode, 200, edited.body)
  t.same(await search('des'), ['fr'], 'indexed as English now, "des" is a word')
})
