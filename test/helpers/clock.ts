/**
 * Waits until the clock is in the next whole second. A response made in the second of its last
 * change carries no Last-Modified (http/caching.ts setLastModified): tests that read it after a
 * write wait for this first.
 */
export async function nextSecond (): Promise<void> {
  const second = Math.floor(Date.now() / 1000)
  while (Math.floor(Date.now() / 1000) === second) await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5))
}
