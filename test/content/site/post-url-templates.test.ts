import t from 'tap'
import { isPostUrlTemplate, PostUrlTemplateSchema, postUrls, type Links, type PostAddress } from '../../../src/content/common/site.ts'

// site.ts fills URL templates from parts split once per template. The regular expression it
// replaced is the reference: whatever a template holds (placeholders repeated, next to each
// other, unknown, unclosed, none), the address comes out the same.

function reference (template: string, post: PostAddress): string {
  const iso = post.sort_time.toISOString()
  const values: Record<string, string> = {
    blog: encodeURIComponent(post.blog.slug), slug: encodeURIComponent(post.slug), id: post.id, yyyy: iso.slice(0, 4), mm: iso.slice(5, 7), dd: iso.slice(8, 10)
  }
  return template.replace(/\{([a-z]+)\}/g, (whole, name: string) => values[name] ?? whole)
}

const TEMPLATES = [
  'https://news.example/{yyyy}/{mm}/{dd}/{slug}',
  'https://news.example/{blog}/{slug}-{id}',
  'https://news.example/{slug}{slug}/{id}{yyyy}',
  'https://news.example/{unknown}/{slug}/{dd}',
  'https://news.example/{Slug}/{slug}/{}/{ slug}',
  'https://news.example/{slug',
  'https://news.example/}{slug}{',
  'https://news.example/plain',
  '{slug}',
  ''
]

const POSTS: PostAddress[] = [
  { id: '01900000-0000-7000-8000-000000000001', slug: 'under-the-black-flag', sort_time: new Date('2026-01-02T23:59:59.999Z'), blog: { slug: 'news', website_url: null, post_url_template: null } },
  // Slugs are [a-z0-9-] in the database; encoding still applies to anything else.
  { id: '01900000-0000-7000-8000-000000000002', slug: 'a/b c?d', sort_time: new Date('1999-12-31T00:00:00Z'), blog: { slug: 'é x', website_url: null, post_url_template: null } }
]

t.test('a template filled from its parts equals the regular expression\'s filling', async (t) => {
  let compared = 0
  for (const template of TEMPLATES) {
    for (const post of POSTS) {
      for (const twice of [1, 2]) {
        const links: Links = { apiBase: 'https://api.example', site: { website: undefined, postUrlTemplate: undefined } }
        const { url, api_url: apiUrl } = postUrls({ ...post, blog: { ...post.blog, post_url_template: template } }, links)
        t.equal(url, reference(template, post), `${JSON.stringify(template)}, ${post.slug}, ${twice === 1 ? 'first' : 'again (compiled)'}`)
        t.equal(apiUrl, reference('https://api.example/v1/blogs/{blog}/posts/{slug}', post))
        compared += 1
      }
    }
  }
  t.equal(compared, TEMPLATES.length * POSTS.length * 2)
})

t.test('a template of runs of braces is judged in time proportional to its length', async (t) => {
  // Runs that no `}` closes sent the placeholder search over the rest of the value from every
  // `{`: 80,000 took 4 s, a million (a blog write's body holds 4 MiB) some ten minutes.
  const run = '{'.repeat(1_000_000)
  t.equal(isPostUrlTemplate(run), false)
  t.equal(isPostUrlTemplate(`https://news.example/{slug}/${run}`), true, 'a stray brace past the last placeholder is text, as before')
  t.equal(isPostUrlTemplate(`${run}}`), false)
  // Past the length limit nothing else runs: one issue, the limit.
  t.same(PostUrlTemplateSchema.safeParse(run).error?.issues.map((issue) => issue.code), ['too_big'])
})
