import { z } from 'zod'
import { IdOrSlugSchema } from '../addressing/identifiers.ts'
import { SlugSchema } from '../addressing/slugs.ts'
import { HttpUrlSchema, LanguageTagSchema, TimestampSchema } from '../common/fields.ts'
import { booleanParam } from '../common/query-params.ts'
import { PostUrlTemplateSchema, websiteFits, websiteTooLong } from '../common/site.ts'
import { AuthorLinkSchema } from '../authors/authors.schemas.ts'
import { pageOf, PageQuerySchema } from '../../http/pagination.ts'

export const BlogSchema = z.object({
  id: z.uuid(),
  slug: z.string().describe('URL name, unique across blogs.'),
  title: z.string(),
  description: z.string().describe('The "About this blog" text.'),
  language: z.string().describe('BCP 47 language tag of the blog, e.g. en or en-GB.'),
  website_url: z.string().nullable().describe('Where readers read the blog: its own website, else the network\'s (WEBSITE_URL), else null. Feeds link here.'),
  post_url_template: z.string().nullable().describe('How the blog\'s post addresses (`url`) are built, e.g. https://blog.example.com/{yyyy}/{mm}/{slug}; null: from its website, or the network\'s settings.'),
  logo_url: z.string().nullable().describe('The publication\'s logo (NewsArticle publisher logo, Ghost settings logo).'),
  icon_url: z.string().nullable().describe('A square icon (favicon, app icon).'),
  cover_image_url: z.string().nullable(),
  social_accounts: z.array(AuthorLinkSchema).describe('The publication elsewhere: X, Facebook, YouTube, Telegram...'),
  created_at: TimestampSchema,
  updated_at: TimestampSchema
}).meta({
  id: 'Blog',
  examples: [{
    id: '0192a8f0-0000-7000-8000-000000000001',
    slug: 'under-the-black-flag',
    title: 'Under The Black Flag',
    description: '"Under The Black Flag" provides news, opinion, and analysis about the impact of the Islamic State (IS) extremist group in Syria, Iraq, and beyond.',
    language: 'en',
    website_url: 'https://news.example.com/under-the-black-flag',
    post_url_template: 'https://news.example.com/under-the-black-flag/{yyyy}/{mm}/{slug}',
    logo_url: 'https://static.example.com/under-the-black-flag/logo-600x60.png',
    icon_url: 'https://static.example.com/under-the-black-flag/icon-512.png',
    cover_image_url: null,
    social_accounts: [{ label: 'X', url: 'https://x.com/underblackflag' }],
    created_at: '2014-10-01T09:00:00.000Z',
    updated_at: '2014-10-01T09:00:00.000Z'
  }]
})

export type Blog = z.infer<typeof BlogSchema>

export const BlogResponseSchema = z.object({ data: BlogSchema }).meta({ id: 'BlogResponse' })
export const BlogPageSchema = pageOf(BlogSchema).meta({ id: 'BlogPage' })

export const ListBlogsQuerySchema = PageQuerySchema.strict()
export const BlogParamsSchema = z.object({ blog: IdOrSlugSchema })

const blogWriteFields = {
  slug: SlugSchema.optional().describe('Derived from the title when not given.'),
  title: z.string().trim().min(1).max(200),
  description: z.string().max(5000).optional().describe('The "About this blog" text.'),
  language: LanguageTagSchema.optional().describe('Defaults to en.'),
  website_url: HttpUrlSchema.refine(websiteFits, { error: (issue) => websiteTooLong(issue.input as string) }).nullable().optional()
    .describe('The blog\'s website (http or https, no trailing slash needed; kept as URL parsers serialize it: ASCII, the host in punycode); null: the network\'s.'),
  post_url_template: PostUrlTemplateSchema.nullable().optional()
    .describe('Post addresses from {blog} {slug} {id} {yyyy} {mm} {dd}; must name {slug} or {id}, and give none longer than 2,048 characters. Kept as URL parsers serialize it (ASCII). null: website_url/{slug}, or the network\'s settings.'),
  logo_url: HttpUrlSchema.nullable().optional(),
  icon_url: HttpUrlSchema.nullable().optional(),
  cover_image_url: HttpUrlSchema.nullable().optional(),
  social_accounts: z.array(z.object({ label: z.string().trim().min(1).max(100), url: HttpUrlSchema }).strict()).max(20).optional()
}
export const CreateBlogSchema = z.object(blogWriteFields).strict().meta({
  id: 'CreateBlog',
  examples: [{ title: 'Under The Black Flag', description: 'News, opinion, and analysis about the Islamic State group.', language: 'en', website_url: 'https://news.example.com/under-the-black-flag' }]
})
export const UpdateBlogSchema = z.object(blogWriteFields).partial().strict()
  .refine((body) => Object.keys(body).length > 0, 'give at least one field to change').meta({ id: 'UpdateBlog', examples: [{ post_url_template: 'https://news.example.com/under-the-black-flag/{yyyy}/{mm}/{slug}' }] })
export const DeleteBlogQuerySchema = z.object({
  move_posts_to: IdOrSlugSchema.optional().describe('Move the blog\'s posts to this blog first.'),
  delete_posts: booleanParam.optional().describe('true: delete the blog\'s posts with it (for good).')
}).strict()

/** Everything the blog routes validate and answer with (resources/resource.routes.ts). */
export const BLOG_SCHEMAS = {
  item: BlogSchema,
  page: BlogPageSchema,
  response: BlogResponseSchema,
  params: BlogParamsSchema,
  getQuery: z.object({}).strict(),
  listQuery: ListBlogsQuerySchema,
  create: CreateBlogSchema,
  update: UpdateBlogSchema,
  deleteQuery: DeleteBlogQuerySchema
}
