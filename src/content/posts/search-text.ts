import { UNSPACED_CHARACTERS } from './post-text.ts'

// A search query as the index holds the text it looks for. The index holds text in NFKC (the
// search_nfkc migration): é typed as one character or as e and an accent, ﬁ, ＡＢＣ and ﾆｭｰｽ all
// find their plain spellings, so the query is put in NFKC too. Chinese and Japanese are written
// without spaces between words, and Thai, Lao, Khmer and Burmese too; each run of their characters
// is indexed as its overlapping two-character pieces (the cjk_bigrams and southeast_asian_pieces
// migrations: 北京会见 -> 北京 京会 会见), so a query's runs are
// cut the same way, and a run of several pieces is asked for as a phrase (the pieces in a row,
// where it stands in the text): q=北京 finds 今天在北京会见了, -北京会见 excludes the posts that say
// it, and a run already inside "quotes" joins the phrase it is in. Other text is left as it came.

const HAS_RUN = new RegExp(`[${UNSPACED_CHARACTERS}]`, 'u')
const RUN = new RegExp(`[${UNSPACED_CHARACTERS}]+`, 'gu')

const NOT_ASCII = /[\u0080-\u{10ffff}]/u

export function searchableQuery (query: string): string {
  // ASCII is its own NFKC; only other text calls into ICU's normalization data.
  const q = NOT_ASCII.test(query) ? query.normalize('NFKC') : query
  if (!HAS_RUN.test(q)) return q
  let out = ''
  let from = 0
  let quoted = false
  for (const match of q.matchAll(RUN)) {
    const before = q.slice(from, match.index)
    for (const character of before) if (character === '"') quoted = !quoted
    out += before
    const characters = Array.from(match[0])
    const pieces = characters.length === 1 ? match[0] : characters.slice(0, -1).map((character, i) => character + characters[i + 1]).join(' ')
    const spaceBefore = out === '' || /[\s"-]$/.test(out) ? '' : ' '
    const spaceAfter = /^[\s"]/.test(q.slice(match.index + match[0].length)) || match.index + match[0].length === q.length ? '' : ' '
    out += quoted || characters.length === 1 ? `${spaceBefore}${pieces}${spaceAfter}` : `${spaceBefore}"${pieces}"${spaceAfter}`
    from = match.index + match[0].length
  }
  return out + q.slice(from)
}
