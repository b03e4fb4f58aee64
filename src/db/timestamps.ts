import pg from 'pg'

// pg parses every timestamptz it reads with postgres-date: three regular expressions, a
// parseFloat and a few Date calls each, 2 % of the API's CPU time on an uncached page of posts
// (its 21 sort times; V8's profile of bench/cpu-split.sh /v1/posts). What PostgreSQL sends a
// session in UTC, as ours are, is one fixed shape, `2026-12-03 09:18:26.123456+00`, read here
// by position; anything else (another zone, BC, infinity, a year past 9999) goes to
// postgres-date as before.

const TIMESTAMPTZ = 1184
/** pg's own (postgres-date), taken before parseTimestamp replaces it. */
export const parseAnyTimestamp = pg.types.getTypeParser(TIMESTAMPTZ) as (text: string) => Date | number | null

const digits = (text: string, from: number, to: number): number => {
  let value = 0
  for (let i = from; i < to; i++) {
    const digit = text.charCodeAt(i) - 48
    if (digit < 0 || digit > 9) return NaN
    value = value * 10 + digit
  }
  return value
}

/** A timestamptz as PostgreSQL writes it, to a Date of its milliseconds (the rest cut off). */
export function parseTimestamp (text: string): Date | number | null {
  const length = text.length
  // `YYYY-MM-DD HH:MM:SS` + an optional fraction of 1-6 digits + `+00`.
  const fractionDigits = length - 22 - 1
  if (length >= 22 && text.endsWith('+00') && text[4] === '-' && text[7] === '-' && text[10] === ' ' && text[13] === ':' && text[16] === ':' &&
    (length === 22 || (text[19] === '.' && fractionDigits >= 1 && fractionDigits <= 6))) {
    const milliseconds = length === 22 ? 0 : digits(text, 20, 20 + Math.min(3, fractionDigits)) * 10 ** (3 - Math.min(3, fractionDigits))
    const time = Date.UTC(digits(text, 0, 4), digits(text, 5, 7) - 1, digits(text, 8, 10), digits(text, 11, 13), digits(text, 14, 16), digits(text, 17, 19), milliseconds)
    // Years 0-99 would be taken as 1900-1999 by Date.UTC; NaN is a digit that was not one.
    if (!Number.isNaN(time) && text[0] !== '0' && (length === 22 || !Number.isNaN(digits(text, 20, length - 3)))) return new Date(time)
  }
  return parseAnyTimestamp(text)
}

/** Has every pg client in this process read timestamptz with parseTimestamp. */
export function readTimestampsFast (): void {
  pg.types.setTypeParser(TIMESTAMPTZ, parseTimestamp)
}
