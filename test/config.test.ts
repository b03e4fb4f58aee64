import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import t from 'tap'
import { ConfigError, EnvironmentSchema, loadConfig } from '../src/config.ts'

t.test('defaults give an embedded database on port 3000', async (t) => {
  const config = loadConfig({})
  t.match(config, {
    port: 3000,
    host: '127.0.0.1',
    database: { kind: 'embedded', dataDir: './data' },
    seedDemo: 'auto',
    logLevel: 'info',
    publicBaseUrl: 'http://localhost:3000',
    corsOrigins: '*',
    shutdownTimeoutMs: 10000
  })
  t.ok(Object.isFrozen(config))
})

t.test('DATABASE_URL switches to PostgreSQL; empty values count as unset', async (t) => {
  t.same(loadConfig({ DATABASE_URL: 'postgres://u@db:5432/content', DATABASE_POOL_SIZE: '4' }).database,
    { kind: 'postgres', url: 'postgres://u@db:5432/content', poolSize: 4, replicaUrls: [], maxReplicaLagSeconds: 5, statementTimeoutMs: 30_000, poolMode: 'session', listenUrl: 'postgres://u@db:5432/content' })
  t.same(loadConfig({ DATABASE_URL: 'postgres://u@db/content', DATABASE_REPLICA_URL: 'postgres://u@r1/content, postgres://u@r2/content' }).database,
    { kind: 'postgres', url: 'postgres://u@db/content', poolSize: 10, replicaUrls: ['postgres://u@r1/content', 'postgres://u@r2/content'], maxReplicaLagSeconds: 5, statementTimeoutMs: 30_000, poolMode: 'session', listenUrl: 'postgres://u@db/content' })
  t.match(loadConfig({ DATABASE_URL: 'postgres://u@db/content', DATABASE_STATEMENT_TIMEOUT_MS: '0' }).database, { kind: 'postgres', statementTimeoutMs: 0 }, '0: no limit')
  t.match(loadConfig({ DATABASE_URL: 'postgres://u@pooler:6432/content', DATABASE_POOL_MODE: 'transaction', DATABASE_LISTEN_URL: 'postgres://u@db:5432/content' }).database,
    { poolMode: 'transaction', url: 'postgres://u@pooler:6432/content', listenUrl: 'postgres://u@db:5432/content' })
  t.throws(() => loadConfig({ DATABASE_URL: 'postgres://u@pooler:6432/content', DATABASE_POOL_MODE: 'transaction' }), /DATABASE_LISTEN_URL: needed with DATABASE_POOL_MODE=transaction/)
  t.throws(() => loadConfig({ DATABASE_URL: 'postgres://u@db/content', DATABASE_POOL_MODE: 'statement' }), /DATABASE_POOL_MODE/)
  t.throws(() => loadConfig({ DATABASE_URL: 'postgres://u@db/content', DATABASE_LISTEN_URL: 'http://db' }), /DATABASE_LISTEN_URL: must be a postgres/)
  t.throws(() => loadConfig({ DATABASE_POOL_MODE: 'transaction' }), /DATABASE_POOL_MODE: applies to PostgreSQL/)
  t.throws(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '-1' }), /DATABASE_STATEMENT_TIMEOUT_MS/)
  t.throws(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '1.5' }), /DATABASE_STATEMENT_TIMEOUT_MS/)
  t.throws(() => loadConfig({ DATABASE_REPLICA_URL: 'postgres://u@r1/content' }), /DATABASE_REPLICA_URL: replicas need DATABASE_URL/)
  t.throws(() => loadConfig({ DATABASE_URL: 'postgres://u@db/content', DATABASE_REPLICA_URL: 'mysql://r1' }), /DATABASE_REPLICA_URL/)
  t.throws(() => loadConfig({ REDIS_URL: 'http://cache' }), /REDIS_URL: must be a redis/)
  t.throws(() => loadConfig({ EDGE_PURGE_STYLE: 'akamai' }), /EDGE_PURGE_STYLE/)
  t.same(loadConfig({ DATABASE_URL: '', PORT: '' }).database, { kind: 'embedded', dataDir: './data' })
  t.equal(loadConfig({ PUBLIC_BASE_URL: 'https://api.example.com/' }).publicBaseUrl, 'https://api.example.com')
  t.same(loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example' }).corsOrigins, ['https://a.example', 'https://b.example'])
})

t.test('every bad variable is named at once, with the reason', async (t) => {
  const error = t.throws(() => loadConfig({
    PORT: 'abc',
    DATABASE_URL: 'mysql://nope',
    DATABASE_POOL_SIZE: '0',
    LOG_LEVEL: 'loud',
    PUBLIC_BASE_URL: 'not a url',
    CORS_ORIGINS: 'https://ok.example,nonsense',
    SEED_DEMO: 'maybe',
    SHUTDOWN_TIMEOUT_MS: '-5'
  })) as ConfigError
  t.type(error, ConfigError)
  t.same(error.problems.map((p) => p.variable).sort(), [
    'CORS_ORIGINS', 'DATABASE_POOL_SIZE', 'DATABASE_URL', 'LOG_LEVEL', 'PORT', 'PUBLIC_BASE_URL', 'SEED_DEMO', 'SHUTDOWN_TIMEOUT_MS'
  ])
  t.match(error.message, /PORT: .*number/)
  t.match(error.message, /DATABASE_URL: must be a postgres/)
})

t.test('the server refuses to start on bad configuration: non-zero exit, every variable named', async (t) => {
  const run = promisify(execFile)
  const failure = await run(process.execPath, ['--import=tsx', 'src/server.ts'], {
    env: { PATH: process.env.PATH, PORT: '70000', LOG_LEVEL: 'loud' },
    timeout: 30_000
  }).then(() => undefined, (error: { code: number, stderr: string }) => error)
  t.ok(failure, 'the process failed')
  t.equal(failure?.code, 1)
  t.match(failure?.stderr, /PORT: /)
  t.match(failure?.stderr, /LOG_LEVEL: /)
  t.notMatch(failure?.stderr, /at .*\.ts:\d+/, 'a message, not a stack trace')
})

t.test('the README configuration table lists every variable with its schema description', async (t) => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const table = readme.split('<!-- config-table:start -->')[1]?.split('<!-- config-table:end -->')[0]
  t.ok(table, 'the README has a config table between the markers')
  const rows = new Map([...(table ?? '').matchAll(/^\| `([A-Z_]+)` \| (.*?) \| (.*?) \|$/gm)].map((m) => [m[1], { default: m[2], description: m[3] }]))
  for (const [name, schema] of Object.entries(EnvironmentSchema.shape)) {
    t.equal(rows.get(name)?.description, schema.description, `${name} is documented as the schema describes it`)
  }
  t.same([...rows.keys()].sort(), Object.keys(EnvironmentSchema.shape).sort(), 'no stale rows')
})
