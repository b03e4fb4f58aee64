import t from 'tap'
import { modulesLoadedBy, probeDatabaseUrl, START_APP_AT_PROBE_URL } from './helpers/module-probe.ts'

// Modules a process loads only when it uses what they are for: the Redis client (REDIS_URL),
// the pretty log printer (a terminal), Ghost's filter grammar and the Luxon it brings (a Ghost
// client's filter), any-ascii's transliteration tables (a headline with letters outside ASCII). Each is a megabyte or two of heap that a process kept for nothing, and V8
// lets a heap grow in proportion to what it keeps (README, "Memory"). Proven in fresh processes
// that report every module they resolve (module-probe.ts).

const OPTIONAL = /\/node_modules\/(ioredis|pino-pretty|@tryghost\/nql-lang|luxon|any-ascii)\/|\/src\/access\/rate-limit-store\.ts$/

t.test('the application\'s modules do not import them', async (t) => {
  const loaded = modulesLoadedBy(`await import('./src/app.ts'); await import('./src/bootstrap.ts')`)
  t.ok(loaded.some((url) => url.endsWith('/src/compat/ghost/ghost.routes.ts')), 'the probe sees the Ghost layer\'s routes load')
  t.same(loaded.filter((url) => OPTIONAL.test(url)), [])
})

t.test('a process serving reads without Redis does not load them; a Ghost filter loads its grammar', async (t) => {
  const url = await probeDatabaseUrl(t)
  if (url === undefined) return
  const serve = (ghostFilter: boolean) => modulesLoadedBy(`
    ${START_APP_AT_PROBE_URL}
    for (const url of ['/v1/posts', '/v1/blogs', '/v1/feeds/latest']) {
      const response = await app.inject({ url })
      if (response.statusCode !== 200) throw new Error(url + ' answered ' + response.statusCode)
    }
    if (${ghostFilter}) {
      const { createApiKey } = await import('./src/access/api-keys/api-keys.service.ts')
      const { key } = await createApiKey(app.db, 'Ghost frontend', ['content:read'], 'ghost')
      const response = await app.inject({ url: '/ghost/api/content/posts/?key=' + key + '&filter=' + encodeURIComponent('featured:true+tag:news') })
      if (response.statusCode !== 200) throw new Error('the Ghost filter answered ' + response.statusCode + ' ' + response.body)
    }
    await app.close()
    await database.close()`, { PROBE_URL: url })
  const reads = serve(false)
  t.ok(reads.some((url) => url.endsWith('/src/app.ts')), 'the probe sees the application load')
  t.same(reads.filter((url) => OPTIONAL.test(url)), [], 'none of them while serving reads')
  const ghost = serve(true)
  t.ok(ghost.some((url) => /\/node_modules\/@tryghost\/nql-lang\//.test(url)), 'a Ghost filter loads the grammar')
})
