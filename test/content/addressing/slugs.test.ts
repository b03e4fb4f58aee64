import t from 'tap'
import { uuidv7 } from 'uuidv7'
import { SLUG_PATTERN, slugify, uniqueSlug } from '../../../src/content/addressing/slugs.ts'
import { insertResourceUnlessSlugTaken } from '../../../src/content/resources/resources.repository.ts'
import { newApiKey, newBlog, newTag } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// Slugs made from headlines in the scripts a newsroom writes in: readable ASCII (transliterated
// by any-ascii, as Ghost's slugify does), never the fallback unless nothing in the headline is a
// letter or a digit; and a free slug found in a few queries however often a headline was used.

t.test('headlines in every script get a readable slug of their own', async (t) => {
  const expected: Array<[string, string]> = [
    ["Is Moscow Walking Back 'IS Intel-Sharing' Reports?", 'is-moscow-walking-back-is-intel-sharing-reports'],
    ['Путин заявил о переговорах', 'putin-zayavil-o-peregovorakh'],
    ['中文新闻：北京天气', 'zhong-wen-xin-wen-bei-jing-tian-qi'],
    ['BBC中文 news', 'bbc-zhong-wen-news'],
    ['한국어 뉴스', 'hangugeo-nyuseu'],
    ['Straße in Zürich', 'strasse-in-zurich'],
    ['İstanbul’da seçim', 'istanbulda-secim'],
    ['Łódź & Kraków', 'lodz-krakow'],
    ['Tin tức Việt Nam', 'tin-tuc-viet-nam'],
    ['👑 The crown', 'the-crown'],
    ['Cafe\u0301 in NFD', 'cafe-in-nfd']
  ]
  for (const [headline, slug] of expected) t.equal(await slugify(headline), slug, headline)

  const corpus = [
    'روسيا تتراجع عن تبادل المعلومات', 'اخبار فارسی امروز', 'اردو خبریں', 'חדשות ישראל', 'हिन्दी समाचार आज', 'বাংলা সংবাদ',
    'தமிழ் செய்திகள்', 'ข่าวภาษาไทย', 'Ελλάδα: εκλογές 2024', 'የአማርኛ ዜና', 'ქართული ამბები', 'Հայկական լուրեր',
    '東京の天気 ニュース', 'Українські новини', 'Қазақ жаңалықтары', 'ٹیکس ۲۰۲۴', 'ئۇيغۇرچە خەۋەر', 'မြန်မာ သတင်း', 'ខ្មែរ ព័ត៌មាន'
  ]
  const slugs = await Promise.all(corpus.map((headline) => slugify(headline)))
  for (const [i, slug] of slugs.entries()) {
    t.ok(SLUG_PATTERN.test(slug) && slug !== 'untitled' && slug.length >= 3, `${corpus[i]} -> ${slug}`)
  }
  t.equal(new Set(slugs).size, corpus.length, 'each headline its own slug')
  t.match(await slugify('ٹیکس ۲۰۲۴'), /2024/, 'digits of other scripts are digits')
  for (const nothing of ['🏴‍☠️', '!!! ???', '   ', '\u200b\u200d']) t.equal(await slugify(nothing, 'post'), 'post', `${JSON.stringify(nothing)}: the fallback`)
  t.equal((await slugify('长'.repeat(200))).length <= 80, true, 'still at most 80 characters')
})

t.test('a free slug is found in one query, or one more for each hundred uses of the headline', async (t) => {
  const taken = new Set(['live', ...Array.from({ length: 249 }, (_, i) => `live-${i + 2}`)])
  const asked: number[] = []
  const takenAmong = async (candidates: readonly string[]) => {
    asked.push(candidates.length)
    return new Set(candidates.filter((candidate) => taken.has(candidate)))
  }
  t.equal(await uniqueSlug('fresh', takenAmong), 'fresh')
  t.same(asked, [1], 'a new headline: one query')
  asked.length = 0
  t.equal(await uniqueSlug('live', takenAmong), 'live-251')
  t.same(asked, [1, 100, 100, 100], 'used 250 times: four queries')
  taken.delete('live-7')
  t.equal(await uniqueSlug('live', takenAmong), 'live-7', 'the first gap is taken')
  const long = 'x'.repeat(80)
  taken.add(long)
  t.equal(await uniqueSlug(long, takenAmong), `${'x'.repeat(78)}-2`, 'numbered slugs stay within 80 characters')
})

t.test('through the API: an Arabic headline twice gets its slug and the next, and each is addressable', async (t) => {
  const { app } = await buildTestApp(t)
  await newBlog(app.db, { slug: 'arabic' })
  const writer = await newApiKey(app.db, ['content:write'])
  const publish = async (title: string) => {
    const res = await app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${writer}` }, payload: { blog: 'arabic', title, status: 'published' } })
    t.equal(res.statusCode, 201, res.body)
    return res.json().data.slug as string
  }
  const headline = 'روسيا تتراجع عن تبادل المعلومات'
  const first = await publish(headline)
  t.equal(first, await slugify(headline))
  t.equal(await publish(headline), `${first}-2`)
  for (const slug of [first, `${first}-2`]) {
    const res = await app.inject({ url: `/v1/blogs/arabic/posts/${slug}` })
    t.equal(res.statusCode, 200, slug)
    t.equal(res.json().data.title, headline)
  }
})

// On PostgreSQL the ten run at once, each in its transaction on its own connection: all find the
// same slug free, and the unique index lets one have it (on the embedded database they queue).
t.test('ten posts and ten tags sent at once with one headline are all created, each under its own slug', async (t) => {
  const { app } = await buildTestApp(t, { RATE_LIMIT_WRITE: '100000' })
  await newBlog(app.db, { slug: 'live' })
  const writer = await newApiKey(app.db, ['content:write'])
  const send = (url: string, payload: Record<string, unknown>) => app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${writer}` }, payload })
  const posts = await Promise.all(Array.from({ length: 10 }, () => send('/v1/posts', { blog: 'live', title: 'Live: the day\'s news', status: 'published' })))
  t.same(posts.map((res) => res.statusCode), Array(10).fill(201), posts.map((res) => res.body.slice(0, 120)).join('\n'))
  t.same(posts.map((res) => res.json().data.slug as string).sort(), ['live-the-days-news', ...Array.from({ length: 9 }, (_, i) => `live-the-days-news-${i + 2}`)].sort())
  const tags = await Promise.all(Array.from({ length: 10 }, () => send('/v1/tags', { name: 'Ukraine war' })))
  t.same(tags.map((res) => res.statusCode), Array(10).fill(201), tags.map((res) => res.body.slice(0, 120)).join('\n'))
  t.equal(new Set(tags.map((res) => res.json().data.slug)).size, 10, 'ten tags, ten slugs')
  const given = await Promise.all(Array.from({ length: 3 }, () => send('/v1/tags', { name: 'Chosen', slug: 'chosen' })))
  t.same(given.map((res) => res.statusCode).sort(), [201, 409, 409], 'a slug the client chose is still its to change: one has it, the others a 409')
})

t.test('a slug taken meanwhile rolls back only its own insert: the transaction goes on and commits', async (t) => {
  const { app } = await buildTestApp(t)
  await newTag(app.db, { slug: 'taken' })
  const outcome = await app.db.transaction().execute(async (tx) => {
    const clash = await insertResourceUnlessSlugTaken(tx, 'tags', { id: uuidv7(), slug: 'taken', name: 'Clash' })
    const next = await insertResourceUnlessSlugTaken(tx, 'tags', { id: uuidv7(), slug: 'taken-2', name: 'Next' })
    return { clash, next }
  })
  t.same(outcome, { clash: undefined, next: true })
  const names = (await app.db.selectFrom('tags').select(['slug', 'name']).where('slug', 'like', 'taken%').orderBy('slug').execute())
  t.same(names, [{ slug: 'taken', name: 'Tag taken' }, { slug: 'taken-2', name: 'Next' }], 'the clash wrote nothing, the next insert committed')
  await t.rejects(app.db.transaction().execute(async (tx) => insertResourceUnlessSlugTaken(tx, 'tags', { id: 'not-a-uuid', slug: 'other', name: 'Bad' })), 'any other error is thrown as it came')
})
