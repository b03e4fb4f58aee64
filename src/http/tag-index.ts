// Which cached responses carry each surrogate key (response-cache.ts), so a change drops exactly
// those. Most keys name one post, and only the one response of its page carries them: such a key
// maps to that response's cache key itself; a Set is made only when a second response carries it
// (a blog's, an author's or a list's keys). Under the long tail, with a Set for every key, the
// index was some 390 bytes of heap a cached post, a third of what each entry cost besides its body.

export class TagIndex {
  readonly #keysByTag = new Map<string, string | Set<string>>()

  /** Records that the response under `key` carries each of `tags`. */
  add (key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.#keysByTag.get(tag)
      if (keys === undefined) this.#keysByTag.set(tag, key)
      else if (typeof keys === 'string') { if (keys !== key) this.#keysByTag.set(tag, new Set([keys, key])) } else keys.add(key)
    }
  }

  /** Forgets the response under `key` for each of `tags`. */
  remove (key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.#keysByTag.get(tag)
      if (keys === key) this.#keysByTag.delete(tag)
      else if (keys instanceof Set) {
        keys.delete(key)
        if (keys.size === 0) this.#keysByTag.delete(tag)
      }
    }
  }

  /** The keys of the responses carrying `tag`, as a copy (dropping them changes the index). */
  keysOf (tag: string): string[] {
    const keys = this.#keysByTag.get(tag)
    return keys === undefined ? [] : typeof keys === 'string' ? [keys] : [...keys]
  }

  /** How many surrogate keys are indexed (for tests). */
  get size (): number {
    return this.#keysByTag.size
  }
}
