import { parse } from 'fast-querystring'

// The query string as the API reads it, and as its log writes it.
//
// Lists are documented as OpenAPI writes a comma-separated list (`tag=a,b`) and taken repeated
// too (`tag=a&tag=b`, what openapi-fetch sends for an array). axios, jQuery, PHP and Rails write
// an array with brackets (`tag[]=a&tag[]=b`): axios's default, so clients generated on it (orval)
// send that for the array the generated types ask for, and every strict query schema refused it
// as an unknown parameter.
const BRACKETS = /\[\]|%5b%5d/i

/**
 * Fastify's own query string parser (fast-querystring), where `name[]` is `name`: its values
 * are added to those of `name`, if any, in order, and it is an array even with one value, so a
 * parameter that takes a single value refuses it as it would `name=a&name=b`. Nothing else is
 * read differently.
 */
export function parseQueryString (text: string): Record<string, unknown> {
  const query = parse(text) as Record<string, unknown>
  if (!BRACKETS.test(text)) return query
  for (const key of Object.keys(query)) {
    if (!key.endsWith('[]') || key.length === 2) continue
    const name = key.slice(0, -2)
    const values = [query[name] ?? [], query[key]].flat()
    delete query[key]
    query[name] = values
  }
  return query
}

/**
 * A URL's query (`?a=1&b=2`, as `URL.search` gives it) with every pair whose name the parser
 * reads as `name` taken out, and `name=<value>` put at the end when a value is given. The other
 * pairs stay as the client wrote them, in order: a list's next link and a feed's self link are
 * the request's own URL but for that parameter. (URLSearchParams wrote every pair again in its
 * own form, `tag=a,b` as `tag=a%2Cb`: a feed's self link then was not the address it was
 * fetched from, which the W3C feed validator reports, and a CDN keyed the next page apart from
 * the same page asked for as the client writes it.)
 */
export function replaceQueryParam (search: string, name: string, value?: string): string {
  const kept = search.replace(/^\?/, '').split('&').filter((pair) => pair !== '' && pairName(pair) !== name)
  if (value !== undefined) kept.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
  return kept.length === 0 ? '' : `?${kept.join('&')}`
}

/** A pair's name as the parser reads it (`%66ormat` and `format` alike); as written when plain. */
function pairName (pair: string): string {
  const equals = pair.indexOf('=')
  const written = equals === -1 ? pair : pair.slice(0, equals)
  return /[%+]/.test(written) ? Object.keys(parse(written) as object)[0] ?? written : written
}

const KEY_NAME = /^key(\[\])?$/i
const MAY_NAME_KEY = /key|%/i

/**
 * A request URL for logs: the value of every query parameter the parser reads as `key` (Ghost's
 * Content API key) replaced. Each pair's name is read by the parser itself, so a name spelled
 * `%6Bey` or `k%65y`, which it decodes to `key` and the Ghost routes take, is masked as `key=`
 * is (a pattern over the raw text had left them in the log); `KEY`, `key[]` and `key ` (a
 * typo that still carries a key) too.
 */
export function maskQueryKeys (url: string): string {
  const start = url.indexOf('?')
  if (start === -1 || !MAY_NAME_KEY.test(url.slice(start + 1))) return url
  const pairs = url.slice(start + 1).split('&').map((pair) => {
    const [name] = Object.keys(parse(pair) as object)
    if (name === undefined || !KEY_NAME.test(name.trim())) return pair
    const equals = pair.indexOf('=')
    return `${equals === -1 ? pair : pair.slice(0, equals)}=[redacted]`
  })
  return `${url.slice(0, start + 1)}${pairs.join('&')}`
}
