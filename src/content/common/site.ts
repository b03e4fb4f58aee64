import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import { apiBaseUrl } from '../../http/public-url.ts'

// Where readers find content on the web, as opposed to where the API serves it. A reader who
// clicks an item in a feed reader, or a frontend that links to an article, wants the article's
// page on the publisher's website; the API's JSON is for programs and keeps its own field
// (`api_url`). Each blog may name its website and the shape of its post addresses; the network's
// settings apply where a blog names none.

const PLACEHOLDERS = ['blog', 'slug', 'id', 'yyyy', 'mm', 'dd'] as const

/** An absolute http(s) URL template whose placeholders are known and that names the post ({slug} or {id}). */
export function isPostUrlTemplate (value: string): boolean {
  // Searched only up to the last `}`: from a `{` that no `}` follows, the search ran to the end
  // and failed, once for each `{` of a run (quadratic); no placeholder lies past it anyway.
  // eslint-disable-next-line regexp/no-super-linear-move -- every `{` searched from has a `}` after it
  const names = [...value.slice(0, value.lastIndexOf('}') + 1).matchAll(/\{([^}]*)\}/g)].map((match) => match[1] as string)
  if (!names.every((name) => (PLACEHOLDERS as readonly string[]).includes(name))) return false
  if (!names.includes('slug') && !names.includes('id')) return false
  const example = value.replace(/\{[a-z]+\}/g, 'x')
  return URL.canParse(example) && /^https?:$/.test(new URL(example).protocol)
}

export const POST_URL_TEMPLATE_RULE = `must be an absolute http(s) URL template naming the post with {slug} or {id}; placeholders: ${PLACEHOLDERS.map((name) => `{${name}}`).join(' ')}`

// Post addresses are written as given into JSON, feeds and sitemaps, so the settings they are
// built from are kept as the WHATWG URL parser serializes them: ASCII only (an IDN host in
// punycode, anything else outside URL syntax percent-encoded: spaces, quotes, <, >, non-ASCII
// letters), the form RFC 3986, sitemaps.org and feed validators expect; a raw space or quote in
// a <loc> or an RSS <link> is not a URI. And no address may be longer than 2,048 characters,
// the most sitemaps.org's schema (and Google's crawlers) take: the longest address a setting can
// give, every placeholder at its longest, must fit.

export const MAX_POST_URL = 2048
/** The longest value of each placeholder: slugs (SlugSchema) and ids (UUIDs). */
const LONGEST: Record<(typeof PLACEHOLDERS)[number], number> = { blog: 100, slug: 100, id: 36, yyyy: 4, mm: 2, dd: 2 }
const PLACEHOLDER = /\{(blog|slug|id|yyyy|mm|dd)\}/g

/** The parser's serialization, with a `%` that starts no escape written as one (%25): the parser leaves it, RFC 3986 does not. */
const serialized = (url: string) => new URL(url).href.replace(/%(?![0-9A-Fa-f]{2})/g, '%25')

/** The text without the slashes it ends with. */
export function withoutTrailingSlashes (text: string): string {
  // The look-behind starts the run's match at its first slash only: `/\/+$/` tried from every
  // slash of a long run, quadratic (eslint-plugin-regexp's no-super-linear-move).
  return text.replace(/(?<!\/)\/+$/, '')
}

/** An http(s) URL in the parser's serialization, without trailing slashes (a website, as post addresses start with it). */
export function normalizedWebsite (url: string): string {
  return withoutTrailingSlashes(serialized(url))
}

/** A post URL template in the parser's serialization, its placeholders kept as they are. */
export function normalizedPostUrlTemplate (template: string): string {
  // Markers the parser keeps as they are anywhere in a URL, host included (lowercase ASCII), and
  // that the template itself does not hold (in any case: the parser lowercases a host).
  let tag = 'zzplaceholder'
  while (template.toLowerCase().includes(tag)) tag += 'z'
  const names: string[] = []
  const marked = template.replace(PLACEHOLDER, (_, name: string) => `${tag}${names.push(name) - 1}zz`)
  return serialized(marked).replace(new RegExp(`${tag}(\\d+)zz`, 'g'), (_, index: string) => `{${names[Number(index)]}}`)
}

/** How long the longest post address from `template` can be. */
export function longestPostUrl (template: string): number {
  return template.replace(PLACEHOLDER, (_, name: keyof typeof LONGEST) => 'x'.repeat(LONGEST[name])).length
}

/** The template of the post addresses a website gives (the blog's: website/{slug}; the network's: website/{blog}/{slug}). */
const websiteTemplate = (url: string, network: boolean) => `${normalizedWebsite(url)}${network ? '/{blog}' : ''}/{slug}`
/** Whether every post address from `template` fits; true for what is not a URL at all (another rule says so). */
const fits = (template: () => string): boolean => {
  try {
    return longestPostUrl(template()) <= MAX_POST_URL
  } catch {
    return true
  }
}
const tooLong = (template: string) => `gives post addresses of up to ${longestPostUrl(template)} characters, more than the ${MAX_POST_URL} that sitemaps and crawlers take`
export const websiteFits = (url: string, network = false) => fits(() => websiteTemplate(url, network))
export const websiteTooLong = (url: string, network = false) => tooLong(websiteTemplate(url, network))
export const postUrlTemplateFits = (template: string) => fits(() => normalizedPostUrlTemplate(template))
export const postUrlTemplateTooLong = (template: string) => tooLong(normalizedPostUrlTemplate(template))

// Zod runs a refinement even on a value that failed the checks before it, unless one aborts: a
// million `{` went through isPostUrlTemplate's placeholder search (4 s for 80,000, a quadratic
// regular expression then) after the 500-character limit had already refused them.
export const PostUrlTemplateSchema = z.string().max(500, { abort: true }).refine(isPostUrlTemplate, { error: POST_URL_TEMPLATE_RULE, abort: true })
  .refine(postUrlTemplateFits, { error: (issue) => postUrlTemplateTooLong(issue.input as string) })

/** The network's website settings (WEBSITE_URL, POST_URL_TEMPLATE). */
export interface SiteSettings {
  readonly website: string | undefined
  readonly postUrlTemplate: string | undefined
}

/** How absolute links are built for one response: the API's base URL and the website settings. */
export interface Links {
  readonly apiBase: string
  readonly site: SiteSettings
}

export function linksFor (request: FastifyRequest): Links {
  return { apiBase: apiBaseUrl(request), site: request.server.config.site }
}

/** Links where there is no request to follow (webhook payloads): the configured base URL. */
export function configuredLinks (config: { publicBaseUrl: string, site: SiteSettings }): Links {
  return { apiBase: config.publicBaseUrl, site: config.site }
}

/** A blog as far as its addresses go. */
export interface BlogSite {
  slug: string
  website_url: string | null
  post_url_template: string | null
}

/** The blog's website: its own, else the network's, else none. */
export function blogWebsite (blog: Pick<BlogSite, 'website_url'>, site: SiteSettings): string | null {
  return blog.website_url ?? site.website ?? null
}

/** The API's address of a blog (its JSON), for feeds of blogs without a website. */
export function blogApiUrl (links: Links, blogSlug: string): string {
  return `${links.apiBase}/v1/blogs/${encodeURIComponent(blogSlug)}`
}

/**
 * The template of a blog's post addresses, most specific first: the blog's own template, its
 * website + /{slug}, the network's template, the network's website + /{blog}/{slug}, and last
 * the post's API URL (so `url` is always absolute and always works).
 */
function postUrlTemplate (blog: BlogSite, links: Links): string {
  if (blog.post_url_template !== null) return blog.post_url_template
  if (blog.website_url !== null) return `${blog.website_url}/{slug}`
  return networkPostUrlTemplate(links)
}

/** The template of post addresses for blogs that name neither a template nor a website. */
export function networkPostUrlTemplate (links: Links): string {
  if (links.site.postUrlTemplate !== undefined) return links.site.postUrlTemplate
  if (links.site.website !== undefined) return `${links.site.website}/{blog}/{slug}`
  return postApiUrlTemplate(links)
}

/** The template of a post's address in the API (its `api_url`). */
export function postApiUrlTemplate (links: Links): string {
  return `${links.apiBase}/v1/blogs/{blog}/posts/{slug}`
}

/** What a post's addresses are built from. */
export interface PostAddress {
  id: string
  slug: string
  /** The publish time (or, for drafts, the creation time): {yyyy} {mm} {dd}. */
  sort_time: Date
  blog: BlogSite
}

/** A template as its literal text and placeholders in turn (a placeholder it does not know stays literal text). */
export type CompiledTemplate = ReadonlyArray<{ text: string } | { placeholder: typeof PLACEHOLDERS[number] }>

const compiledTemplates = new Map<string, CompiledTemplate>()

/**
 * Templates are few (the network's, each blog's, the API's for each base URL) and every post of
 * a feed, a sitemap or a webhook fills one or two, so each is split once: filling one with a
 * regular expression and a callback was 3 % of the API's time where every post of a page had
 * its URLs written this way (a V8 CPU profile of an uncached /v1/posts on an experiment that did).
 */
export function templateParts (template: string): CompiledTemplate {
  let parts = compiledTemplates.get(template)
  if (parts === undefined) {
    parts = template.split(/(\{[a-z]+\})/).filter((part) => part !== '').map((part) => {
      const name = part.slice(1, -1)
      const placeholder = PLACEHOLDERS.find((known) => known === name)
      return part.startsWith('{') && placeholder !== undefined ? { placeholder } : { text: part }
    })
    if (compiledTemplates.size < 1_000) compiledTemplates.set(template, parts)
  }
  return parts
}

function fill (template: string, post: PostAddress): string {
  let filled = ''
  let iso: string | undefined
  for (const part of templateParts(template)) {
    if ('text' in part) {
      filled += part.text
      continue
    }
    switch (part.placeholder) {
      case 'blog': filled += encodeURIComponent(post.blog.slug); break
      case 'slug': filled += encodeURIComponent(post.slug); break
      case 'id': filled += post.id; break
      default: {
        iso ??= post.sort_time.toISOString()
        filled += part.placeholder === 'yyyy' ? iso.slice(0, 4) : part.placeholder === 'mm' ? iso.slice(5, 7) : iso.slice(8, 10)
      }
    }
  }
  return filled
}

/** The post's page on the website (or its API URL when no website is known), and its API URL. */
export function postUrls (post: PostAddress, links: Links): { url: string, api_url: string } {
  return {
    url: fill(postUrlTemplate(post.blog, links), post),
    api_url: fill(postApiUrlTemplate(links), post)
  }
}
