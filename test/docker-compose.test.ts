import { readFile } from 'node:fs/promises'
import t from 'tap'
import { parse } from 'yaml'
import { loadConfig } from '../src/config.ts'
import { startCommand } from './helpers/compiled-server.ts'

// No Docker engine runs in CI, so the compose file is kept honest by reading it.

t.test('docker-compose.yml runs PostgreSQL and the API the way the README says', async (t) => {
  const compose = parse(await readFile(new URL('../docker-compose.yml', import.meta.url), 'utf8'))
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const defaultServices = Object.entries<{ profiles?: string[] }>(compose.services).filter(([, service]) => service.profiles === undefined).map(([name]) => name)
  t.same(defaultServices.sort(), ['api', 'db'], 'without a profile: the database and one API process')

  const { db, api } = compose.services
  const postgresMajor = Number(/^postgres:(\d+)/.exec(db.image)?.[1])
  t.ok(postgresMajor >= 15, 'PostgreSQL 15 or newer')
  t.match(readme, new RegExp(`PostgreSQL ${postgresMajor}`), 'the README names the same PostgreSQL version')
  t.ok(db.healthcheck?.test, 'the database has a health check')

  t.same(api.depends_on, { db: { condition: 'service_healthy' } }, 'the API waits for a healthy database')
  t.match(api.healthcheck?.test?.join(' '), /\/readyz/, 'the API health check is readiness')
  const config = loadConfig(api.environment)
  t.equal(config.database.kind, 'postgres', 'the API environment parses with our config schema')
  const url = new URL(config.database.kind === 'postgres' ? config.database.url : '')
  t.equal(url.hostname, 'db')
  t.equal(url.username, db.environment.POSTGRES_USER)
  t.equal(url.password, db.environment.POSTGRES_PASSWORD)
  t.equal(url.pathname, `/${db.environment.POSTGRES_DB}`)
  t.equal(config.host, '0.0.0.0', 'reachable from outside the container')
  t.same(api.ports, [`${config.port}:${config.port}`])
  t.match(readme, /docker compose up/, 'the README tells how to start it')
})

t.test('the scale-out profile: Varnish before two API processes, a streaming replica, Redis', async (t) => {
  const compose = parse(await readFile(new URL('../docker-compose.yml', import.meta.url), 'utf8'), { merge: true })
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const vcl = await readFile(new URL('../deploy/varnish/default.vcl', import.meta.url), 'utf8')
  const services = compose.services as Record<string, any>
  const profile = Object.keys(services).filter((name) => services[name].profiles?.includes('scale-out')).sort()
  t.same(profile, ['api-1', 'api-2', 'redis', 'replica', 'varnish'])
  t.match(readme, /docker compose --profile scale-out up/, 'the README tells how to start it')

  for (const name of ['api-1', 'api-2']) {
    const config = loadConfig(services[name].environment)
    if (config.database.kind !== 'postgres') throw new Error(`${name} must use PostgreSQL`)
    t.equal(new URL(config.database.url).hostname, 'db', `${name} writes to the primary`)
    t.same(config.database.replicaUrls.map((url) => new URL(url).hostname), ['replica'], `${name} reads from the replica`)
    t.equal(new URL(config.redisUrl ?? '').hostname, 'redis', `${name} shares rate limits through Redis`)
    t.equal(new URL(config.edgePurge?.url ?? '').hostname, 'varnish', `${name} purges Varnish`)
    t.equal(config.trustProxy, 1, `${name} believes the one proxy in front (Varnish) about client addresses`)
    t.match(vcl, new RegExp(`\\.host = "${name}";\\s+\\.port = "${config.port}";`), `the VCL sends to ${name} on its port`)
    t.same(services[name].depends_on?.replica, { condition: 'service_healthy' })
  }
  t.match(services.replica.entrypoint.join(' '), /pg_basebackup -h db .* -R /, 'the replica is made with pg_basebackup -R from db')
  t.ok(services.db.volumes.some((volume: string) => volume.startsWith('./deploy/postgres/allow-replication.sh:/docker-entrypoint-initdb.d/')), 'db allows replication connections')
  t.ok(services.varnish.volumes.some((volume: string) => volume.startsWith('./deploy/varnish/default.vcl:')), 'Varnish runs the VCL the scale-out test runs')
  t.match(vcl, /import xkey;/)
})

t.test('the Dockerfile builds the compiled server on a current Node LTS', async (t) => {
  const dockerfile = await readFile(new URL('../Dockerfile', import.meta.url), 'utf8')
  const packageJson = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }
  const bases = [...dockerfile.matchAll(/^FROM node:(\d+)/gm)].map((match) => Number(match[1]))
  const minimum = Number(/(\d+)/.exec(packageJson.engines.node)?.[1])
  t.ok(bases.length > 0 && bases.every((major) => major >= minimum && major % 2 === 0), `every stage on an LTS line at or above engines (${bases.join(', ')})`)
  // Node's flags (the young generation's size: README, Production) are set once, in package.json's
  // start script; the image cannot run `npm start` itself (its prestart builds from src/).
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1]
  t.same(JSON.parse(cmd ?? '[]'), startCommand(), 'the image starts the server with the command `npm start` runs')
  t.match(startCommand().join(' '), /^node (--[\w-]+(=\w+)? )*dist\/src\/server\.js$/, 'the compiled server, not a TypeScript loader')
  t.notMatch(dockerfile, /tsx/, 'no tsx at run time')
  for (const [, source] of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)) {
    for (const file of (source as string).split(' ')) {
      await t.resolves(readFile(new URL(`../${file}`, import.meta.url)).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code === 'EISDIR') return
        throw error
      }), `${file} exists`)
    }
  }
})

