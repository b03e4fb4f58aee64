import { parse } from 'fast-querystring'

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
