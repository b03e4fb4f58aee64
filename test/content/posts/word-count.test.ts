import t from 'tap'
import { countWords, readingTimeMinutes } from '../../../src/content/posts/post-text.ts'
import { newApiKey, newBlog } from '../../helpers/factories.ts'
import { buildTestApp } from '../../helpers/test-app.ts'

// Word counts (and the reading time made from them) in every script: by spaces where the script
// puts spaces between words, by ICU's word breaks in Chinese, Japanese, Thai, Lao, Khmer and
// Burmese, which do not. Exact counts there follow ICU's dictionaries, so these are bounds.

t.test('words are counted in scripts written with and without spaces', async (t) => {
  t.equal(countWords(''), 0)
  t.equal(countWords('  \n '), 0)
  t.equal(countWords('Is Moscow walking back its claims?'), 6)
  t.equal(countWords('Путин заявил о переговорах'), 4, 'Cyrillic: by spaces')
  t.equal(countWords('روسيا تتراجع عن تبادل المعلومات'), 5, 'Arabic: by spaces')
  t.equal(countWords('한국어 뉴스 오늘'), 3, 'Korean: by spaces')
  const between = (text: string, low: number, high: number, label: string) => {
    const n = countWords(text)
    t.ok(n >= low && n <= high, `${label}: ${n} words (${low}-${high})`)
  }
  between('中华人民共和国国务院总理李强今天在北京会见了来访的外国代表团', 10, 25, 'Chinese, 31 characters')
  between('東京都は今日、新しい交通計画を発表しました', 8, 20, 'Japanese, 21 characters')
  between('ประเทศไทยมีประชากรประมาณหกสิบหกล้านคน', 6, 15, 'Thai, 36 characters')
  between('ព័ត៌មានថ្មីៗពីប្រទេសកម្ពុជា', 3, 12, 'Khmer')
  between('BBC 中文网 报道 ：今天 北京 下雨', 6, 12, 'mixed, with Latin and punctuation')
  const article = '中华人民共和国国务院总理李强今天在北京会见了来访的外国代表团，双方就经贸合作交换了意见。'.repeat(70)
  t.ok(readingTimeMinutes(countWords(article)) >= 5, `a 3,000-character Chinese article is a read of minutes (${readingTimeMinutes(countWords(article))}), not one`)
})

t.test('through the API: a Chinese article\'s word count and reading time', async (t) => {
  const { app } = await buildTestApp(t)
  await newBlog(app.db, { slug: 'chinese' })
  const writer = await newApiKey(app.db, ['content:write'])
  const body = '中华人民共和国国务院总理李强今天在北京会见了来访的外国代表团，双方就经贸合作交换了意见。\n\n'.repeat(70)
  const res = await app.inject({ method: 'POST', url: '/v1/posts', headers: { authorization: `Bearer ${writer}` }, payload: { blog: 'chinese', title: '北京新闻', body_markdown: body, status: 'published' } })
  t.equal(res.statusCode, 201, res.body.slice(0, 300))
  const post = (await app.inject({ url: `/v1/posts/${String(res.json().data.id)}` })).json().data as { word_count: number, reading_time_minutes: number }
  t.ok(post.word_count > 1000, `${post.word_count} words`)
  t.ok(post.reading_time_minutes >= 5, `${post.reading_time_minutes} minutes`)
})
