import { z } from 'zod'
import { AppError } from '../../http/errors.ts'

export const SLUG_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/
const MAX_SLUG = 80

export const SlugSchema = z.string().min(1).max(100)
  .regex(SLUG_PATTERN, 'must be lowercase letters, digits and single hyphens, like under-the-black-flag')

// Headlines come in every script a newsroom writes in. Letters and digits outside ASCII are
// transliterated with any-ascii, as Ghost's own slugify does (Путин заявил -> putin-zayavil,
// हिन्दी समाचार -> hindi-smacar, Eastern Arabic digits ۲۰۲۴ -> 2024); before, every such headline
// was the fallback, and a blog's Arabic posts were post, post-2, post-3 and on. Han characters are
// syllables written without spaces, so each is a word of its own (中文新闻 -> zhong-wen-xin-wen).
// Other symbols (emoji, punctuation, currency signs) separate words. any-ascii's tables are half a
// megabyte of source: loaded at the first headline that needs them, never by a process that reads.
const APOSTROPHES = /['‘’´]/g
const NOT_ASCII = /[^\p{ASCII}]/u
const HAN = /\p{Script=Han}/u
const WORD_PART = /[\p{L}\p{M}\p{N}]/u
let transliterate: ((text: string) => string) | undefined

async function romanized (text: string): Promise<string> {
  if (!NOT_ASCII.test(text)) return text
  transliterate ??= (await import('any-ascii')).default
  let latin = ''
  for (const character of text.normalize('NFC')) {
    if (!NOT_ASCII.test(character)) latin += character
    else if (HAN.test(character)) latin += ` ${transliterate(character)} `
    else latin += WORD_PART.test(character) ? transliterate(character) : ' '
  }
  return latin
}

/** "Is Moscow Walking Back 'IS Intel-Sharing' Reports?" -> "is-moscow-walking-back-is-intel-sharing-reports" */
export async function slugify (text: string, fallback = 'untitled'): Promise<string> {
  const slug = (await romanized(text.replace(APOSTROPHES, ''))).toLowerCase()
    .replace(APOSTROPHES, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|(?<!-)-+$/g, '')
    .slice(0, MAX_SLUG).replace(/(?<!-)-+$/, '')
  return SLUG_PATTERN.test(slug) ? slug : fallback
}

/**
 * The first of base, base-2, base-3 ... that is free. `takenAmong` says which of some candidates
 * are taken, in one query: the base alone first (most headlines are new), then a hundred at a
 * time. Asked one by one, a headline a desk reuses every day ("Live: the day's news") cost one
 * query per earlier use on each new post.
 */
export async function uniqueSlug (base: string, takenAmong: (candidates: readonly string[]) => Promise<ReadonlySet<string>>): Promise<string> {
  const numbered = (n: number) => `${base.slice(0, MAX_SLUG - String(n).length - 1)}-${n}`
  if (!(await takenAmong([base])).has(base)) return base
  for (let first = 2; ; first += 100) {
    const candidates = Array.from({ length: 100 }, (_, i) => numbered(first + i))
    const taken = await takenAmong(candidates)
    const free = candidates.find((candidate) => !taken.has(candidate))
    if (free !== undefined) return free
  }
}

/**
 * Stores something under the first free slug for `base` (uniqueSlug). `store` gives undefined
 * when a concurrent write took that slug after it was found free (the unique index decides), and
 * the next free one is tried: the API chose the slug, so the race is not the client's to resolve.
 * Before, nine of ten posts sent at once with one headline got 409 "choose another".
 */
export async function storeUnderFreeSlug<T> (
  base: string, takenAmong: (candidates: readonly string[]) => Promise<ReadonlySet<string>>, store: (slug: string) => Promise<T | undefined>
): Promise<T> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const stored = await store(await uniqueSlug(base, takenAmong))
    if (stored !== undefined) return stored
  }
  throw new AppError(409, 'conflict', `Twenty writes at once took every slug tried for "${base}"; try again.`, { headers: { 'retry-after': '1' } })
}
