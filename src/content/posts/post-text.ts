// Derived text fields of a post: what search indexes and what reading time is computed from.

export const WORDS_PER_MINUTE = 230

// Most scripts put spaces between words; Chinese, Japanese, Thai, Lao, Khmer and Burmese do not,
// and counted by spaces a 3,000-character Chinese article was a few words and a minute's read.
// A run of text in one of those scripts is split into words by ICU's word breaks (Intl.Segmenter,
// with its dictionaries for these scripts). This runs where bodies are rendered (the renderer's
// worker thread, the demo seed), never on a read: ICU's data is paged in only for such text.
// Code point ranges, not \p{Script=...}: a property class is built from ICU's tables as well.
// Search cuts runs of the same scripts into pieces (search-text.ts, and the migrations that
// index them, which keep their own copy).
export const UNSPACED_CHARACTERS = '\\u0E00-\\u0EFF\\u1000-\\u109F\\u1780-\\u17FF\\u19E0-\\u19FF\\u3040-\\u30FF\\u31F0-\\u31FF\\u3400-\\u4DBF' +
  '\\u4E00-\\u9FFF\\uA9E0-\\uA9FF\\uAA60-\\uAA7F\\uF900-\\uFAFF\\uFF66-\\uFF9F\\u{20000}-\\u{3134F}'
const UNSPACED = new RegExp(`[${UNSPACED_CHARACTERS}]`, 'u')
let wordBreaks: Intl.Segmenter | undefined

export function countWords (text: string): number {
  let count = 0
  for (const token of text.split(/\s+/u)) {
    if (token === '') continue
    if (!UNSPACED.test(token)) {
      count++
      continue
    }
    wordBreaks ??= new Intl.Segmenter('und', { granularity: 'word' })
    for (let from = 0; from < token.length;) {
      const to = chunkEnd(token, from)
      for (const segment of wordBreaks.segment(token.slice(from, to))) if (segment.isWordLike === true) count++
      from = to
    }
  }
  return count
}

// Node 20's segmenter takes time quadratic in the length of what it segments: a run of 40,000
// Chinese characters took 244 ms, one of 500,000 (the longest body) some 400 s, past the
// renderer's time limit, so such a post was a 422 on Node 20 (Node 24: 0.14 s). Segmented in
// pieces of a few thousand characters it is linear on both; a word cut at a piece's edge counts
// twice, at most one in some 2,000 words.
const SEGMENT_CHUNK = 4096

/** Where the piece that starts at `from` ends: SEGMENT_CHUNK units on, never inside a surrogate pair. */
function chunkEnd (text: string, from: number): number {
  let to = Math.min(text.length, from + SEGMENT_CHUNK)
  const unit = text.charCodeAt(to)
  if (to < text.length && unit >= 0xdc00 && unit <= 0xdfff) to--
  return to
}

/** Whole minutes, at least one for any post with words in it. */
export function readingTimeMinutes (wordCount: number): number {
  return wordCount === 0 ? 0 : Math.max(1, Math.round(wordCount / WORDS_PER_MINUTE))
}
