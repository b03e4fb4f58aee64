import { z } from 'zod'

export const SLUG_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/
const MAX_SLUG = 80

export const SlugSchema = z.string().min(1).max(100)
  .regex(SLUG_PATTERN, 'must be lowercase letters, digits and single hyphens, like under-the-black-flag')

/** "Is Moscow Walking Back 'IS Intel-Sharing' Reports?" -> "is-moscow-walking-back-is-intel-sharing-reports" */
export function slugify (text: string, fallback = 'untitled'): string {
  const slug = text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/['’]/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')
    .slice(0, MAX_SLUG).replace(/-+$/, '')
  return SLUG_PATTERN.test(slug) ? slug : fallback
}

/** The first of base, base-2, base-3 ... that `isTaken` says is free. */
export async function uniqueSlug (base: string, isTaken: (candidate: string) => Promise<boolean>): Promise<string> {
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : `${base.slice(0, MAX_SLUG - String(n).length - 1)}-${n}`
    if (!(await isTaken(candidate))) return candidate
  }
}
