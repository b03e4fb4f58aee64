import { LRUCache } from 'lru-cache'

/**
 * An LRU cache of at most `entries` entries (each kept `ttlMs` at most, when given) that takes
 * memory as it fills, not up front. Given `max`, lru-cache allocates its slots for all of them
 * when it is made (eight bytes a slot in each of its arrays, two more with a TTL): the failed
 * authentications' cache of 100,000 entries alone held 4.4 MB of an idle process's 38 MB heap,
 * empty, and V8 lets a heap grow in proportion to what it keeps. Counted with `maxSize` at one
 * a entry, the same bound evicts the same least recently used entry, and the slots grow.
 */
export function boundedLru<Key extends NonNullable<unknown>, Value extends NonNullable<unknown>> (
  options: { entries: number, ttlMs?: number | undefined }
): LRUCache<Key, Value> {
  return new LRUCache<Key, Value>({
    maxSize: options.entries,
    sizeCalculation: () => 1,
    ...(options.ttlMs === undefined ? {} : { ttl: options.ttlMs })
  })
}
