import { feedUrl } from './feed-render.ts'

// WebSub's topics: the feed URLs the publisher pings the hub with (websub-publisher.plugin.ts),
// and so the only feeds that name the hub (feeds.routes.ts). Both read them here.

const FORMATS = ['rss', 'atom', 'jsonfeed'] as const

/**
 * The topic URLs a subscriber may have taken from a feed's self link: each format, with and
 * without `content=full`, at the feed's slug address.
 */
export function webSubTopics (apiBase: string, path: string): string[] {
  return FORMATS.flatMap((format) => [feedUrl({ selfUrl: `${apiBase}${path}` }, format), feedUrl({ selfUrl: `${apiBase}${path}?content=full` }, format)])
}
