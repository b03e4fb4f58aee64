import t, { type Test } from 'tap'
import { searchableQuery } from '../../../src/content/posts/search-text.ts'
import { newApiKey, newBlog } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// Search in Chinese and Japanese, written without spaces between words: each run of their
// characters is indexed as its two-character pieces and a query's runs are cut the same way, so a
// word is found anywhere in a run (the cjk_bigrams migration, search-text.ts). Before, only a whole
// run up to the next punctuation was: q=北京 found nothing. Thai, Lao, Khmer and Burmese, which
// put spaces between phrases and not words, are cut the same way (southeast_asian_pieces).

t.test('a query\'s runs become phrases of pieces; other text is left as it came', async (t) => {
  t.equal(searchableQuery('Lavrov "coalition" -Ukraine'), 'Lavrov "coalition" -Ukraine')
  t.equal(searchableQuery('北京会见'), '"北京 京会 会见"')
  t.equal(searchableQuery('-北京会见'), '-"北京 京会 会见"', 'an excluded run stays excluded, as a whole')
  t.equal(searchableQuery('"北京会见 today"'), '"北京 京会 会见 today"', 'a run inside quotes joins that phrase')
  t.equal(searchableQuery('BBC中文 news'), 'BBC "中文" news')
  t.equal(searchableQuery('京'), '京', 'a single character stays as it is')
})

/** A blog to publish into through the API, and a search that answers the slugs it finds. */
async function searchDesk (t: Test) {
  const { app } = await buildTestApp(t, { RATE_LIMIT_ANONYMOUS: '100000' })
  await newBlog(app.db, { slug: 'desk' })
  const writer = await newApiKey(app.db, ['content:write'])
  const publish = async (title: string, body: string, language: string) => {
    const res = await app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${writer}` }, payload: { blog: 'desk', title, body_markdown: body, language, status: 'published' } })
    t.equal(res.statusCode, 201, res.body.slice(0, 300))
    return res.json().data.slug as string
  }
  const found = async (q: string, language?: string) => {
    const query = new URLSearchParams({ q, fields: 'slug', ...(language === undefined ? {} : { language }) })
    const res = await app.inject({ url: `/v1/posts?${query.toString()}` })
    t.equal(res.statusCode, 200, res.body.slice(0, 300))
    return (res.json().data as Array<{ slug: string }>).map((post) => post.slug).sort()
  }
  return { publish, found }
}

t.test('through the API: words found inside runs of Chinese and Japanese, in order', async (t) => {
  const { publish, found } = await searchDesk(t)
  const zh = await publish('李强会见外国代表团', '中华人民共和国国务院总理李强今天在北京会见了来访的外国代表团。', 'zh')
  const ja = await publish('東京の新しい交通計画', '東京都は今日、新しい交通計画を発表しました。', 'ja')
  const en = await publish('Talks in Beijing', 'The premier met a delegation in Beijing today.', 'en')
  const cases: Array<[string, string[], string?]> = [
    ['北京', [zh]], ['会见', [zh]], ['代表团', [zh]], ['李强', [zh]], ['北京会见', [zh]], ['"在北京会见"', [zh]],
    ['会见北京', []], ['上海', []], ['北京 -会见', []], ['北京 -上海', [zh]],
    ['東京', [ja]], ['交通計画', [ja]], ['発表', [ja]], ['北京 or 東京', [ja, zh].sort()],
    ['北京', [zh], 'zh'], ['Beijing', [en]], ['北京', [], 'en']
  ]
  for (const [q, slugs, language] of cases) t.same(await found(q, language), slugs, `q=${q}${language === undefined ? '' : ` language=${language}`}`)
})

t.test('Thai, Lao, Khmer and Burmese: a word is found inside a run, as in Chinese and Japanese', async (t) => {
  // Written without spaces between words (spaces end phrases); before the southeast_asian_pieces
  // migration only a whole run up to a space was found.
  const { publish, found } = await searchDesk(t)
  const th = await publish('ข่าวต่างประเทศวันนี้', 'นายกรัฐมนตรีเดินทางไปกรุงเทพมหานครเพื่อประชุมกับคณะผู้แทน', 'th')
  const lo = await publish('ຂ່າວລາວມື້ນີ້', 'ນາຍົກລັດຖະມົນຕີໄດ້ເດີນທາງໄປວຽງຈັນ', 'lo')
  const km = await publish('ព័ត៌មានថ្មីៗពីប្រទេសកម្ពុជា', 'នាយករដ្ឋមន្ត្រីបានធ្វើដំណើរទៅភ្នំពេញ', 'km')
  const my = await publish('မြန်မာသတင်းများ', 'ဝန်ကြီးချုပ်သည်ရန်ကုန်မြို့သို့ခရီးထွက်ခဲ့သည်', 'my')
  const cases: Array<[string, string[]]> = [
    ['ข่าว', [th]], ['ต่างประเทศ', [th]], ['กรุงเทพ', [th]], ['ประชุม', [th]], ['ประชุมกรุงเทพ', []],
    ['ຂ່າວ', [lo]], ['ວຽງຈັນ', [lo]],
    ['ព័ត៌មាន', [km]], ['ភ្នំពេញ', [km]],
    ['သတင်း', [my]], ['ရန်ကုန်', [my]],
    ['ข่าว -กรุงเทพ', []], ['ข่าว or ຂ່າວ', [lo, th].sort()]
  ]
  for (const [q, slugs] of cases) t.same(await found(q), slugs, `q=${q}`)
})
