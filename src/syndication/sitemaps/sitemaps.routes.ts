import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { escapeUTF8 } from 'entities'
import { z } from 'zod'
import { blogKeys, postListKeys } from '../../changes/surrogate-keys.ts'
import { BLOGS } from '../../content/addressing/addressables.ts'
import { findOrRedirect, RenamedResponse } from '../../content/addressing/find-or-redirect.ts'
import { withThousandsSeparators } from '../../content/common/fields.ts'
import { linksFor, postUrls, type Links } from '../../content/common/site.ts'
import { AppError, badRequest, problemResponses } from '../../http/errors.ts'
import { setSurrogateKeys } from '../../http/caching.ts'
import { integerParam } from '../../http/pagination.ts'
import { routePlugin } from '../../http/route-plugin.ts'
import { XML_INVALID } from '../../http/stored-text.ts'
import { newsSitemapPosts, sitemapIndexEntries, sitemapPosts, type SitemapPostRow } from './sitemaps.repository.ts'

// Sitemaps (sitemaps.org 0.9) for search engines, and Google News sitemaps, listing exactly the
// public posts that may be indexed (never a draft, a future post or a noindex post) at their
// website addresses. A sitemap page is one blog's posts of one month (at most 50,000 URLs; a
// bigger month gets more pages); the indexes list the pages with their lastmod. Cached and
// purged like feeds: through the change log (posts:list, the blog).
//
// A sitemap or index with nothing to list is a 404, not an empty document: sitemaps.org's
// schemas require at least one <url> in a urlset and one <sitemap> in an index (an empty one
// fails xmllint --schema), and Search Console counts an empty sitemap as an error. That is a blog
// without indexable posts yet, and a month (or page) with none, as when its last post was
// unpublished: the 404 tells a crawler that kept the address that it is gone. Google News
// sitemaps are the exception: they list the last 48 hours, which may hold nothing for a while,
// and a news sitemap that comes and goes would read as broken.

export const MAX_URLS = 50_000
export const NEWS_HOURS = 48
export const NEWS_MAX_URLS = 1_000

const NS = { sitemap: 'http://www.sitemaps.org/schemas/sitemap/0.9', news: 'http://www.google.com/schemas/sitemap-news/0.9' }
const XML_TYPE = 'application/xml; charset=utf-8'
// Sitemaps are long lists of one fixed shape (up to 50,000 entries): written as lines, each value
// escaped by the entities library (& < > " ' as entities, UTF-8 kept). A general XML builder
// spent ~30 us per entry, 200 ms on a 6,000-entry index.
const text = (value: string) => escapeUTF8(value.replace(XML_INVALID, '\uFFFD'))
const element = (name: string, value: string) => `<${name}>${text(value)}</${name}>`
const document = (root: string, namespaces: string, entries: string[]) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} ${namespaces}>\n${entries.join('\n')}${entries.length === 0 ? '' : '\n'}</${root}>\n`

const urlOf = (row: SitemapPostRow, links: Links) => postUrls({
  id: row.id, slug: row.slug, sort_time: row.published_at, blog: { slug: row.blog_slug, website_url: row.blog_website_url, post_url_template: row.blog_post_url_template }
}, links).url

/** Google News wants ISO 639 codes, with zh-cn and zh-tw for Chinese. */
function newsLanguage (tag: string): string {
  const [primary = 'en', region] = tag.toLowerCase().split('-')
  if (primary === 'zh') return region === 'tw' || region === 'hk' || region === 'hant' ? 'zh-tw' : 'zh-cn'
  return primary
}

const MonthSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month such as 2014-10')
const SitemapQuerySchema = z.object({
  month: MonthSchema.optional().describe('A page of the sitemap: the posts of this month. Without it, the blog\'s sitemap index.'),
  page: integerParam(1, 1000).optional().describe('For months with more than 50,000 posts: the page.')
}).strict()

const nothingToList = (message: string) => new AppError(404, 'not_found', message)

const xmlResponse = (description: string) => ({ 200: { description, content: { 'application/xml': { schema: z.string() } } } })

const sitemapsPlugin: FastifyPluginAsyncZod = async (app) => {
  const sendXml = (reply: FastifyReply, body: string) => reply.type(XML_TYPE).send(body)

  async function sitemapIndex (request: FastifyRequest, reply: FastifyReply, blogId: string | undefined) {
    const address = { before: text(`${linksFor(request).apiBase}/v1/blogs/`), after: '/sitemap.xml?month=' }
    const entries = await sitemapIndexEntries(app.db, blogId, address, MAX_URLS)
    if (entries === '') throw nothingToList(`There is no sitemap index: no indexable post has been published${blogId === undefined ? '' : ' in this blog'} yet.`)
    setSurrogateKeys(reply, [...postListKeys(blogId === undefined ? [] : [{ type: 'blog', id: blogId }]), ...blogKeys([], true)])
    return sendXml(reply, document('sitemapindex', `xmlns="${NS.sitemap}"`, [entries]))
  }

  async function newsSitemap (request: FastifyRequest, reply: FastifyReply, blogId: string | undefined) {
    const links = linksFor(request)
    const rows = await newsSitemapPosts(app.db, blogId, NEWS_HOURS, NEWS_MAX_URLS)
    setSurrogateKeys(reply, [...postListKeys(blogId === undefined ? [] : [{ type: 'blog', id: blogId }]), ...blogKeys([], true)])
    // Short-lived by nature: what is listed changes as posts age out of the 48 hours.
    reply.header('cache-control', 'public, max-age=60')
    return sendXml(reply, document('urlset', `xmlns="${NS.sitemap}" xmlns:news="${NS.news}"`, rows.map((row) => `  <url>${element('loc', urlOf(row, links))}` +
      `<news:news><news:publication>${element('news:name', row.blog_title)}${element('news:language', newsLanguage(row.language))}</news:publication>` +
      `${element('news:publication_date', row.published_at.toISOString())}${element('news:title', row.title)}</news:news></url>`)))
  }

  const common = { config: { access: 'public' as const } }

  app.get('/v1/sitemap.xml', {
    ...common,
    schema: {
      tags: ['Sitemaps'], operationId: 'getSitemapIndex', summary: 'Sitemap index of the network',
      description: 'A sitemaps.org index of every blog\'s sitemap pages (one per blog and month, at most 50,000 URLs each), with lastmod.',
      querystring: z.object({}).strict(), response: { ...xmlResponse('The sitemap index.'), ...problemResponses(400, 404) }
    }
  }, async (request, reply) => sitemapIndex(request, reply, undefined))

  app.get('/v1/news-sitemap.xml', {
    ...common,
    schema: {
      tags: ['Sitemaps'], operationId: 'getNewsSitemap', summary: 'Google News sitemap of the network',
      description: `The public posts of the last ${NEWS_HOURS} hours (at most ${withThousandsSeparators(NEWS_MAX_URLS)}), with publication name and language, date and title.`,
      querystring: z.object({}).strict(), response: { ...xmlResponse('The news sitemap.'), ...problemResponses(400) }
    }
  }, async (request, reply) => newsSitemap(request, reply, undefined))

  app.get('/v1/blogs/:blog/sitemap.xml', {
    ...common,
    schema: {
      tags: ['Sitemaps', 'Blogs'], operationId: 'getBlogSitemap', summary: 'A blog\'s sitemap index, or one page of it',
      description: 'Without `month`, the blog\'s sitemap index; with it, the sitemap page of that month\'s posts, newest first.',
      params: z.object({ blog: z.string().max(200) }), querystring: SitemapQuerySchema,
      response: { ...xmlResponse('A sitemap index or a sitemap page.'), ...RenamedResponse, ...problemResponses(400, 404) }
    }
  }, async (request, reply) => {
    const { month, page } = request.query
    // Wrong wherever it is sent: a 400 before the blog is looked up (a 404 had hidden it).
    if (month === undefined && page !== undefined) throw badRequest('validation_failed', 'page needs a month.', [{ path: 'query.page', message: 'needs month' }])
    const blog = await findOrRedirect(request, BLOGS, request.params.blog)
    if (month === undefined) return sitemapIndex(request, reply, blog.id)
    const links = linksFor(request)
    const rows = await sitemapPosts(app.db, blog.id, month, ((page ?? 1) - 1) * MAX_URLS, MAX_URLS)
    if (rows.length === 0) throw nothingToList(`There is no sitemap page for ${month}${page === undefined ? '' : `, page ${page}`}: the blog has no indexable post there.`)
    setSurrogateKeys(reply, [...postListKeys([{ type: 'blog', id: blog.id }]), ...blogKeys([blog.id])])
    return sendXml(reply, document('urlset', `xmlns="${NS.sitemap}"`,
      rows.map((row) => `  <url>${element('loc', urlOf(row, links))}${element('lastmod', row.updated_at.toISOString())}</url>`)))
  })

  app.get('/v1/blogs/:blog/news-sitemap.xml', {
    ...common,
    schema: {
      tags: ['Sitemaps', 'Blogs'], operationId: 'getBlogNewsSitemap', summary: 'A blog\'s Google News sitemap',
      description: `The blog's public posts of the last ${NEWS_HOURS} hours, at most ${withThousandsSeparators(NEWS_MAX_URLS)}.`,
      params: z.object({ blog: z.string().max(200) }), querystring: z.object({}).strict(),
      response: { ...xmlResponse('The news sitemap.'), ...RenamedResponse, ...problemResponses(400, 404) }
    }
  }, async (request, reply) => {
    const blog = await findOrRedirect(request, BLOGS, request.params.blog)
    return newsSitemap(request, reply, blog.id)
  })
}

export const sitemapsRoutes = routePlugin('sitemaps-routes', sitemapsPlugin)
