import pino from 'pino'
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { openDatabase } from '../src/db/database.ts'
const config = loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/bench_dev', RESPONSE_CACHE_MAX_MB: process.env.CACHE ?? '0', RATE_LIMIT_ANONYMOUS: '1000000', LOG_LEVEL: 'warn' })
const database = await openDatabase(config.database)
const app = await buildApp({ config, database, logger: pino({ level: 'warn' }), backgroundJobs: false })
await app.ready()
const urls = (process.env.URLS ?? '').split(',')
for (const url of urls) {
  for (let i = 0; i < 200; i++) await app.inject({ url })
  const n = Number(process.env.N ?? 2000)
  const cpu = process.cpuUsage(); const t0 = performance.now()
  for (let i = 0; i < n; i++) { const r = await app.inject({ url }); if (r.statusCode !== 200) throw new Error(url + ' ' + r.statusCode) }
  const c = process.cpuUsage(cpu); const wall = performance.now() - t0
  console.log(url.slice(0, 60), 'node CPU µs/req', ((c.user + c.system) / n).toFixed(0), 'wall µs/req', (wall * 1000 / n).toFixed(0))
}
await app.close(); await database.close()
