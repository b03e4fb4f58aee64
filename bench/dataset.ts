// The benchmark's dataset: 50 blogs, 2,000 authors, 5,000 tags and N posts with 2-8 KB HTML
// bodies, 1-3 authors and 0-5 tags each, published over ten years, a few percent drafts,
// scheduled and deleted. Deterministic: the same seed makes the same rows.

export const BLOGS = 50
export const AUTHORS = 2_000
export const TAGS = 5_000
export const BENCH_PREFIX = 'bench-'

const WORDS = (
  'insurgents shelled positions near border overnight officials said talks stalled again ministry confirmed ' +
  'convoy reached city aid agencies warned shortages fuel water medicine hospital reported casualties ' +
  'government spokesman denied claims rebels captured village ceasefire monitors observed violations ' +
  'parliament debated budget election commission announced results opposition leaders rejected outcome ' +
  'protesters gathered square police dispersed crowd journalists detained released later statement ' +
  'analysts expect negotiations resume next week diplomats envoy visited capital summit leaders agreed ' +
  'framework sanctions economy inflation currency fell markets investors uncertainty drought harvest ' +
  'refugees crossed camps winter shelter children schools reopened teachers strike unions demanded wages ' +
  'militia commander interview video footage verified satellite images showed damage airstrike targeted ' +
  'warehouse weapons depot navy patrol coast smuggling route pipeline attack oil exports resumed port ' +
  'court ruled appeal verdict sentenced former minister corruption charges investigation leaked documents ' +
  'editor correspondent reporting from frontline photographs caption archive history century empire ' +
  'mountain river valley desert province district region capital northern southern eastern western ' +
  'morning evening night week month year decade early late first second third last new old long short'
).split(' ')

// Real text has a long tail: a few words are everywhere, most are rare. The common words above
// head a Zipf-distributed vocabulary of 20,000 (the rest made of syllables), so a full-text
// query for a rare word matches a few thousand posts of a million, not all of them.
const SYLLABLES = ['ka', 'ren', 'vol', 'mir', 'sta', 'dun', 'lio', 'bar', 'tek', 'osh', 'pal', 'zor', 'quin', 'fel', 'gra', 'hum', 'ix', 'jor', 'lum', 'nev']
const VOCABULARY: string[] = [...WORDS]
for (let i = 0; VOCABULARY.length < 20_000; i++) {
  const a = SYLLABLES[i % 20] as string
  const b = SYLLABLES[Math.floor(i / 20) % 20] as string
  const c = SYLLABLES[Math.floor(i / 400) % 20] as string
  VOCABULARY.push(i < 400 ? a + b : a + b + c)
}
/**
 * Ranks 0 .. n-1 drawn with Zipf's law (rank r with probability proportional to 1/(r+1)): the
 * word frequencies here, and which articles readers ask for in the benchmark's long tail.
 * Takes a uniform number in [0, 1), so each caller keeps its own seeded generator.
 */
export function zipfRanks (n: number): (uniform: number) => number {
  const cumulative = new Float64Array(n)
  let sum = 0
  for (let rank = 0; rank < n; rank++) cumulative[rank] = sum += 1 / (rank + 1)
  return (uniform) => {
    const target = uniform * sum
    let low = 0
    let high = n - 1
    while (low < high) {
      const middle = (low + high) >> 1
      if ((cumulative[middle] as number) < target) low = middle + 1
      else high = middle
    }
    return low
  }
}

const wordRank = zipfRanks(VOCABULARY.length)
const zipfWord = (rand: () => number): string => VOCABULARY[wordRank(rand())] as string

/** Words of the vocabulary by rank (0 is the most frequent), for queries of known rarity. */
export const wordOfRank = (rank: number): string => VOCABULARY[rank] as string

const FIRST_NAMES = ['Ann', 'Omar', 'Lena', 'Yusuf', 'Maria', 'Kofi', 'Ines', 'Dmitri', 'Sara', 'Tomás', 'Aisha', 'Jonas', 'Mei', 'Ravi', 'Nora', 'Paul']
const LAST_NAMES = ['Haddad', 'Novak', 'Okafor', 'Silva', 'Kowalski', 'Rahman', 'Berg', 'Moreau', 'Tanaka', 'Costa', 'Ibrahim', 'Lind', 'Petrov', 'Mensah', 'Weber', 'Ortiz']

/** A small, fast, seedable generator (mulberry32): the same seed gives the same dataset. */
export function random (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D2B79F5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const pad = (n: number, width: number) => String(n).padStart(width, '0')

/** A UUIDv7 whose time part is `ms` (so ids sort roughly by publish time, like real ones). */
export function uuidAt (ms: number, rand: () => number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0').slice(-12)
  const tail = Array.from({ length: 19 }, () => Math.floor(rand() * 16).toString(16)).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${tail.slice(0, 3)}-${(8 + Math.floor(rand() * 4)).toString(16)}${tail.slice(3, 6)}-${tail.slice(6, 18)}`
}

export const blogId = (i: number) => `00000000-0000-7000-8000-${pad(i, 12)}`
export const authorId = (i: number) => `00000000-0000-7000-9000-${pad(i, 12)}`
export const tagId = (i: number) => `00000000-0000-7000-a000-${pad(i, 12)}`

export const blogRows = () => Array.from({ length: BLOGS }, (_, i) => ({
  id: blogId(i), slug: `${BENCH_PREFIX}blog-${pad(i, 2)}`, title: `Bench Blog ${i}`, description: `Blog ${i} of the benchmark network.`, language: 'en'
}))
export const authorRows = () => Array.from({ length: AUTHORS }, (_, i) => ({
  id: authorId(i), slug: `${BENCH_PREFIX}author-${pad(i, 4)}`,
  name: `${FIRST_NAMES[i % FIRST_NAMES.length]} ${LAST_NAMES[Math.floor(i / FIRST_NAMES.length) % LAST_NAMES.length]} ${i}`, bio: `Correspondent ${i}.`
}))
export const tagRows = () => Array.from({ length: TAGS }, (_, i) => ({
  id: tagId(i), slug: `${BENCH_PREFIX}tag-${pad(i, 4)}`, name: `${WORDS[i % WORDS.length]} ${i}`, description: ''
}))

export interface PostRows {
  post: Record<string, string | number | boolean | null>
  authors: Array<{ post_id: string, author_id: string, position: number, published_at: string | null, is_public: boolean }>
  tags: Array<{ post_id: string, tag_id: string, position: number, published_at: string | null, is_public: boolean }>
}

const YEAR_MS = 365.25 * 24 * 3600 * 1000

function sentence (rand: () => number): string {
  const length = 8 + Math.floor(rand() * 14)
  let text = ''
  for (let i = 0; i < length; i++) {
    const word = zipfWord(rand)
    text += i === 0 ? word[0]!.toUpperCase() + word.slice(1) : ' ' + word
  }
  return text + '.'
}

/** Post number `n` of the dataset; `now` anchors "the last ten years". */
export function makePost (n: number, now: number, seed = 1): PostRows {
  const rand = random(seed * 1_000_003 + n)
  const kind = rand()
  const status = kind < 0.03 ? 'draft' : kind < 0.05 ? 'scheduled' : 'published'
  const deleted = kind >= 0.05 && kind < 0.07
  // Scheduled a year ahead or more: none comes due during a run, even on a dataset reused for
  // months, or the feeds would change under the benchmark (the 304 scenario most of all).
  const publishedMs = status === 'scheduled' ? now + YEAR_MS + rand() * 30 * 24 * 3600 * 1000 : now - rand() * 10 * YEAR_MS
  const publishedAt = status === 'draft' ? null : new Date(publishedMs).toISOString()
  const id = uuidAt(publishedMs, rand)
  const title = sentence(rand).slice(0, -1).split(' ').slice(0, 6 + Math.floor(rand() * 7)).join(' ')
  const excerpt = sentence(rand)
  // 2-8 KB of HTML: paragraphs, a subheading, a quote and a link, like an article.
  const target = 2_048 + Math.floor(rand() * 6_144)
  let html = ''
  let text = ''
  let words = 0
  while (html.length < target) {
    const roll = rand()
    const body = sentence(rand) + ' ' + sentence(rand) + ' ' + sentence(rand)
    words += body.split(' ').length
    if (roll < 0.08) { html += `<h2>${sentence(rand).slice(0, -1)}</h2>`; text += '\n' }
    if (roll > 0.92) { html += `<blockquote><p>${body}</p></blockquote>` } else if (roll > 0.85) {
      html += `<p>${body} <a href="https://example.com/reports/${n}">Read the report</a>.</p>`
    } else { html += `<p>${body}</p>` }
    text += body + '\n\n'
  }
  const blog = Math.floor(rand() * BLOGS)
  const authorCount = 1 + Math.floor(rand() * 3)
  const tagCount = Math.floor(rand() * 6)
  const authors = new Set<number>()
  while (authors.size < authorCount) authors.add(Math.floor(rand() * AUTHORS))
  const tags = new Set<number>()
  while (tags.size < tagCount) tags.add(Math.floor(rand() * TAGS))
  const image = rand() < 0.7
  const nowIso = new Date(now).toISOString()
  const isPublic = status !== 'draft' && !deleted
  return {
    post: {
      id,
      blog_id: blogId(blog),
      slug: `${title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}-${n}`,
      title,
      subtitle: null,
      excerpt,
      body_html: html,
      body_text: text.trim(),
      word_count: words,
      lead_image_url: image ? `https://images.example.com/${n}.jpg` : null,
      lead_image_alt: image ? 'A photograph from the story' : null,
      lead_image_caption: image ? sentence(rand) : null,
      lead_image_credit: null,
      lead_image_width: image ? 1600 : null,
      lead_image_height: image ? 900 : null,
      language: 'en',
      status,
      is_breaking: rand() < 0.01,
      is_featured: rand() < 0.02,
      published_at: publishedAt,
      created_at: publishedAt ?? nowIso,
      updated_at: publishedAt ?? nowIso,
      version: 1,
      deleted_at: deleted ? nowIso : null,
      // What the triggers would write (the COPY load runs without them), in their jsonb form.
      author_summaries: JSON.stringify([...authors].map((author) => summaryOf(authorSummaries(), author))),
      tag_summaries: JSON.stringify([...tags].map((tag) => summaryOf(tagSummaries(), tag)))
    },
    // The join tables' copies of the publish time and public state, as the triggers keep them.
    authors: [...authors].map((author, position) => ({ post_id: id, author_id: authorId(author), position, published_at: publishedAt, is_public: isPublic })),
    tags: [...tags].map((tag, position) => ({ post_id: id, tag_id: tagId(tag), position, published_at: publishedAt, is_public: isPublic }))
  }
}

export const POST_COLUMNS = [
  'id', 'blog_id', 'slug', 'title', 'subtitle', 'excerpt', 'body_html', 'body_text', 'word_count', 'lead_image_url',
  'lead_image_alt', 'lead_image_caption', 'lead_image_credit', 'lead_image_width', 'lead_image_height', 'language', 'status',
  'is_breaking', 'is_featured', 'published_at', 'created_at', 'updated_at', 'version', 'deleted_at', 'author_summaries', 'tag_summaries'
] as const

type SummaryRow = { id: string, slug: string, name: string }
let authorSummaryRows: SummaryRow[] | undefined
let tagSummaryRows: SummaryRow[] | undefined
const authorSummaries = () => (authorSummaryRows ??= authorRows())
const tagSummaries = () => (tagSummaryRows ??= tagRows())
const summaryOf = (rows: SummaryRow[], i: number) => ({ id: rows[i]!.id, slug: rows[i]!.slug, name: rows[i]!.name })
export const LINK_COLUMNS = { post_authors: ['post_id', 'author_id', 'position', 'published_at', 'is_public'], post_tags: ['post_id', 'tag_id', 'position', 'published_at', 'is_public'] } as const

/** One row in PostgreSQL's COPY text format. */
export function copyLine (values: ReadonlyArray<string | number | boolean | null>): string {
  return values.map((value) => value === null
    ? '\\N'
    : String(value).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')).join('\t') + '\n'
}
