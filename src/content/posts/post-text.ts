// Derived text fields of a post: what search indexes and what reading time is computed from.

export const WORDS_PER_MINUTE = 230

export function countWords (text: string): number {
  const words = text.trim().split(/\s+/u)
  return words[0] === '' ? 0 : words.length
}

/** Whole minutes, at least one for any post with words in it. */
export function readingTimeMinutes (wordCount: number): number {
  return wordCount === 0 ? 0 : Math.max(1, Math.round(wordCount / WORDS_PER_MINUTE))
}
