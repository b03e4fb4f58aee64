import { z } from 'zod'

// Query parameters shared by the lists. Lists accept `a,b` or repeated parameters
// (`tag=a&tag=b`). Examples sit on the input branch: Zod leaves an example off a transformed
// schema's input side.

export const listParam = <T extends string>(item: z.ZodType<T, string>, max: number, what: string, example?: string) => z.union([
  z.string().max(max * 210).meta(example === undefined ? {} : { examples: [example] }),
  z.array(z.string().max(210)).max(max, `at most ${max} values`)
]).transform((value) => (Array.isArray(value) ? value.join(',') : value).split(',').map((part) => part.trim()).filter(Boolean))
  .pipe(z.array(item).min(1, `give at least one ${what}`).max(max, `at most ${max} values`))

// Documented as a boolean (http/openapi-document.ts): typed clients send true or false as text.
export const booleanParam = z.enum(['true', 'false']).meta({ 'x-query-boolean': true }).transform((value) => value === 'true')
