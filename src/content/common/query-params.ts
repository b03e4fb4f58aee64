import { z } from 'zod'

// Query parameters shared by the lists. Lists accept `a,b` or repeated parameters
// (`tag=a&tag=b`). Examples sit on the input branch: Zod leaves an example off a transformed
// schema's input side.
//
// What the API takes is either form, so the schema Zod writes for the input is "a string, or an
// array of strings", saying nothing of the items: typed clients got `formats?: string | string[]`
// and validators (Prism, Schemathesis) took any word for a format, a status or an id. Each list
// therefore carries its items' schema (`x-query-list`), and the document writes the parameter as
// OpenAPI writes a comma-separated list: an array of those items, `style: form, explode: false`
// (http/openapi-document.ts withListParameters).

/** The JSON Schema of a list's items, for the document (no `$schema`: it sits inside a parameter). */
function itemSchema (item: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(item, { io: 'output', unrepresentable: 'any' })
  return schema
}

export const listParam = <T extends string>(item: z.ZodType<T, string>, max: number, what: string, example?: string) => z.union([
  z.string().max(max * 210).meta(example === undefined ? {} : { examples: [example] }),
  z.array(z.string().max(210)).max(max, `at most ${max} values`)
]).meta({ 'x-query-list': { items: itemSchema(item), maxItems: max } })
  .transform((value) => (Array.isArray(value) ? value.join(',') : value).split(',').map((part) => part.trim()).filter(Boolean))
  .pipe(z.array(item).min(1, `give at least one ${what}`).max(max, `at most ${max} values`))

// Documented as a boolean (http/openapi-document.ts): typed clients send true or false as text.
export const booleanParam = z.enum(['true', 'false']).meta({ 'x-query-boolean': true }).transform((value) => value === 'true')
