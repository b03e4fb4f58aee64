import type { PostStatus } from '../content/posts/post-status.ts'
import { FLAGSHIP_BLOG_ABOUT, FLAGSHIP_LEAD_IMAGE, FLAGSHIP_POST_PARAGRAPHS } from './flagship-post.ts'

// Demo content: the "Under The Black Flag" page (docs/demo-source.txt) plus enough invented
// posts, authors, tags and a second blog that a new user can page through and filter.
// Ids are fixed so that seeding twice changes nothing.

export interface DemoBlog { id: string, slug: string, title: string, description: string, language: string, createdAt: string }
export interface DemoAuthor { id: string, slug: string, name: string, bio: string, avatarUrl: string | null, links: Array<{ label: string, url: string }> }
export interface DemoTag { id: string, slug: string, name: string, description: string }
export interface DemoPost {
  id: string
  blogId: string
  slug: string
  title: string
  subtitle: string | null
  excerpt: string
  paragraphs: readonly string[]
  leadImage: { url: string, alt: string, caption: string | null, credit: string | null, width: number | null, height: number | null } | null
  language: string
  status: PostStatus
  isBreaking: boolean
  isFeatured: boolean
  publishedAt: string | null
  deleted: boolean
  authorIds: string[]
  tagIds: string[]
}

/** A UUIDv7-shaped id whose time part is `at`, made unique by `n`: stable across runs. */
function demoId (at: string, n: number): string {
  const ms = new Date(at).getTime().toString(16).padStart(12, '0')
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7000-8000-${n.toString(16).padStart(12, '0')}`
}

export const blogs: DemoBlog[] = [
  {
    id: demoId('2014-06-01T00:00:00Z', 1),
    slug: 'under-the-black-flag',
    title: 'Under The Black Flag',
    description: FLAGSHIP_BLOG_ABOUT,
    language: 'en',
    createdAt: '2014-06-01T00:00:00Z'
  },
  {
    id: demoId('2014-06-02T00:00:00Z', 2),
    slug: 'across-the-steppe',
    title: 'Across The Steppe',
    description: 'Reporting and analysis from Central Asia: politics, energy and everyday life from Almaty to Ashgabat. (Demo content.)',
    language: 'en',
    createdAt: '2014-06-02T00:00:00Z'
  }
]

const [flagBlog, steppeBlog] = blogs as [DemoBlog, DemoBlog]

export const authors: DemoAuthor[] = [
  {
    id: demoId('2014-06-01T00:00:00Z', 101),
    slug: 'joanna-paraszczuk',
    name: 'Joanna Paraszczuk',
    bio: 'Writes "Under The Black Flag", on the Islamic State group and militancy in Syria, Iraq and beyond.',
    avatarUrl: null,
    links: []
  },
  {
    id: demoId('2014-06-01T00:00:00Z', 102),
    slug: 'daniel-mercer',
    name: 'Daniel Mercer',
    bio: 'Diplomatic correspondent. (Demo author.)',
    avatarUrl: 'https://static.example.com/authors/daniel-mercer.jpg',
    links: [{ label: 'Website', url: 'https://example.com/daniel-mercer' }]
  },
  {
    id: demoId('2014-06-01T00:00:00Z', 103),
    slug: 'aigerim-sadykova',
    name: 'Aigerim Sadykova',
    bio: 'Covers Central Asian politics and energy from Almaty. (Demo author.)',
    avatarUrl: null,
    links: []
  },
  {
    id: demoId('2014-06-01T00:00:00Z', 104),
    slug: 'tomas-novak',
    name: 'Tomas Novak',
    bio: 'Data and graphics editor. (Demo author.)',
    avatarUrl: null,
    links: []
  }
]

const [joanna, daniel, aigerim, tomas] = authors as [DemoAuthor, DemoAuthor, DemoAuthor, DemoAuthor]

const tagNames: Array<[string, string, string]> = [
  ['islamic-state', 'Islamic State', 'The extremist group and the fight against it.'],
  ['syria', 'Syria', ''],
  ['iraq', 'Iraq', ''],
  ['russia', 'Russia', ''],
  ['united-states', 'United States', ''],
  ['diplomacy', 'Diplomacy', 'Talks, treaties and statements between governments.'],
  ['ukraine', 'Ukraine', ''],
  ['central-asia', 'Central Asia', ''],
  ['energy', 'Energy', 'Oil, gas, pipelines and power.'],
  ['analysis', 'Analysis', 'Longer pieces that explain rather than report.']
]

export const tags: DemoTag[] = tagNames.map(([slug, name, description], index) => ({
  id: demoId('2014-06-01T00:00:00Z', 201 + index), slug, name, description
}))

const tag = (slug: string): string => {
  const found = tags.find((t) => t.slug === slug)
  if (found === undefined) throw new Error(`demo content names an unknown tag: ${slug}`)
  return found.id
}

const flagshipPublishedAt = '2014-10-15T10:00:00Z'

const flagship: DemoPost = {
  id: demoId(flagshipPublishedAt, 1000),
  blogId: flagBlog.id,
  slug: 'is-moscow-walking-back-is-intel-sharing-reports',
  title: "Is Moscow Walking Back 'IS Intel-Sharing' Reports?",
  subtitle: null,
  excerpt: 'The Russian Foreign Ministry says Moscow will not be part of the U.S.-led coalition against the Islamic State group, after reports of a U.S.-Russia deal to share intelligence.',
  paragraphs: FLAGSHIP_POST_PARAGRAPHS,
  leadImage: FLAGSHIP_LEAD_IMAGE,
  language: 'en',
  status: 'published',
  isBreaking: true,
  isFeatured: true,
  publishedAt: flagshipPublishedAt,
  deleted: false,
  authorIds: [joanna.id],
  tagIds: ['islamic-state', 'russia', 'united-states', 'syria', 'iraq', 'diplomacy'].map(tag)
}

// Invented headlines for the demo. Each gets a short body, a day of its own going back from
// the flagship post, and authors and tags in rotation so every filter has something to find.
const flagHeadlines = [
  'Coalition Air Strikes Near Kobani Intensify',
  'What IS Propaganda Says About Its Recruiting Drive',
  'Iraqi Forces Regroup North Of Baghdad',
  'Foreign Fighters: Who Travels And Why',
  'Syrian Opposition Split Over Coalition Aid',
  'How IS Finances Its Territory',
  'Kurdish Fighters Appeal For Heavy Weapons',
  'Turkey Weighs A Buffer Zone On The Border',
  'Refugee Numbers Climb In Northern Iraq',
  'Analysts Debate The Limits Of Air Power',
  'Lavrov And Kerry Agree To Keep Talking',
  'Moscow Criticizes Strikes Without A UN Mandate',
  'Baghdad Asks For More Training Teams',
  'IS Media Arm Releases New Magazine Issue'
]

const steppeHeadlines = [
  'Kazakhstan Opens A New Pipeline Spur',
  'Uzbek Cotton Harvest Draws Scrutiny',
  'Kyrgyz Parliament Debates Customs Union Entry',
  'Tajik Migrants Feel The Ruble Slide',
  'Turkmen Gas Looks East To China',
  'Almaty Prepares A Winter Olympics Bid',
  'Energy Prices Test Central Asian Budgets',
  'Border Talks Resume In The Ferghana Valley',
  'Caspian Summit Ends Without A Deal',
  'Astana Courts Foreign Investors Again',
  'Dushanbe Hydropower Plans Worry Neighbors',
  'A Railway Link Across The Steppe Nears Completion'
]

function slugify (title: string): string {
  return title.toLowerCase().replace(/'/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
}

function invented (title: string, index: number, blog: DemoBlog, authorIds: string[], tagIds: string[]): DemoPost {
  const publishedAt = new Date(Date.parse(flagshipPublishedAt) - (index + 1) * 86_400_000 - (index % 5) * 3_600_000).toISOString()
  return {
    id: demoId(publishedAt, 1001 + index),
    blogId: blog.id,
    slug: slugify(title),
    title,
    subtitle: index % 3 === 0 ? 'Demo content' : null,
    excerpt: `${title}: a demo post on ${blog.title}.`,
    paragraphs: [
      `${title}. This is demo content for ${blog.title}, shipped so the API has something to page through and filter.`,
      'It has a second paragraph, so that word counts and reading times have something to measure, and full-text search has words to find.'
    ],
    leadImage: index % 2 === 0
      ? { url: `https://static.example.com/demo/${slugify(title)}.jpg`, alt: title, caption: null, credit: 'Demo Photo Agency', width: 1200, height: 675 }
      : null,
    language: 'en',
    status: 'published',
    isBreaking: index % 7 === 0,
    isFeatured: index % 4 === 0,
    publishedAt,
    deleted: false,
    authorIds,
    tagIds
  }
}

const rotation = <T>(items: readonly T[], index: number): T => items[index % items.length] as T

export const posts: DemoPost[] = [
  flagship,
  ...flagHeadlines.map((title, i) => invented(title, i * 2, flagBlog,
    i % 3 === 0 ? [joanna.id, daniel.id] : [rotation([joanna.id, daniel.id, tomas.id], i)],
    [tag('islamic-state'), rotation([tag('syria'), tag('iraq')], i), ...(i % 4 === 0 ? [tag('analysis')] : [])])),
  ...steppeHeadlines.map((title, i) => invented(title, i * 2 + 1, steppeBlog,
    i % 4 === 0 ? [aigerim.id, tomas.id] : [aigerim.id],
    [tag('central-asia'), ...(i % 2 === 0 ? [tag('energy')] : []), ...(i % 5 === 0 ? [tag('russia')] : [])])),
  // Posts the public must never see: a draft, one scheduled far ahead, and a deleted one.
  {
    ...invented('Draft: Notes For A Longer Piece On IS Finances', 40, flagBlog, [joanna.id], [tag('islamic-state')]),
    status: 'draft', publishedAt: null
  },
  {
    ...invented('Scheduled: A Year Of The Coalition', 41, flagBlog, [daniel.id], [tag('analysis')]),
    status: 'scheduled', publishedAt: '2099-01-01T09:00:00Z'
  },
  {
    ...invented('Withdrawn: An Early Report Later Corrected', 42, steppeBlog, [aigerim.id], [tag('central-asia')]),
    deleted: true
  }
]
