// Text cut to a length for a field with a limit (a headline for search engines, Ghost's excerpt).

/**
 * The first `max` UTF-16 code units of `text`, or one fewer where the cut would fall inside a
 * surrogate pair (an emoji, a Han character beyond the basic plane): never half a character.
 * `slice` alone left a lone surrogate, which JSON carries as an escape (\ud83d) and a reader
 * shows as a replacement character. Counting code units, not characters, needs no ICU.
 */
export function cutText (text: string, max: number): string {
  if (text.length <= max) return text
  const last = text.charCodeAt(max - 1)
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max)
}
