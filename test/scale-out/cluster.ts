import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'

// The real servers of the scale-out picture, started by the test on 127.0.0.1 ports of its own:
// a PostgreSQL 15 primary (initdb) and a streaming replica (pg_basebackup -R) from the server
// binaries `pg_config --bindir` names, a Redis server, and Varnish with vmod xkey. Each is
// installed from the system's package registry when missing (apt-get, as CI runs).
// PostgreSQL refuses to run as root: as root, its commands run as the `postgres` user.

const asRoot = process.getuid?.() === 0

function run (command: string, args: readonly string[], options: { asPostgres?: boolean } = {}): string {
  const [file, argv] = options.asPostgres === true && asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]
  return execFileSync(file, argv as string[], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function has (command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Installs Debian packages when a command is missing (CI machines start bare). */
export function ensureInstalled (command: string, packages: readonly string[], probe?: () => boolean): void {
  if (has(command) && (probe?.() ?? true)) return
  if (!asRoot) throw new Error(`${command} is missing; install ${packages.join(' ')}`)
  execFileSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${packages.join(' ')} > /dev/null`], { stdio: 'inherit' })
}

function workDir (name: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `scale-out-${name}-`))
  if (asRoot) chownSync(dir, postgresUid(), postgresGid())
  chmodSync(dir, 0o700)
  return dir
}

let ids: { uid: number, gid: number } | undefined
function postgresIds (): { uid: number, gid: number } {
  ids ??= { uid: Number(run('id', ['-u', 'postgres']).trim()), gid: Number(run('id', ['-g', 'postgres']).trim()) }
  return ids
}
const postgresUid = () => postgresIds().uid
const postgresGid = () => postgresIds().gid

const bindir = () => run('pg_config', ['--bindir']).trim()

export interface PostgresServer {
  port: number
  url: (database?: string) => string
  stop: (mode?: 'fast' | 'immediate') => void
  start: () => void
  destroy: () => void
}

function postgresServer (dir: string, port: number): PostgresServer {
  const pgCtl = path.join(bindir(), 'pg_ctl')
  const start = () => { run(pgCtl, ['-D', dir, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o', `-p ${port} -k ${dir}`, 'start'], { asPostgres: true }) }
  const stop = (mode: 'fast' | 'immediate' = 'fast') => {
    try { run(pgCtl, ['-D', dir, '-m', mode, '-w', 'stop'], { asPostgres: true }) } catch { /* already stopped */ }
  }
  return {
    port,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    start,
    stop,
    destroy: () => {
      stop('immediate')
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** A fresh primary: initdb's defaults already allow replication connections from 127.0.0.1. */
export function startPrimary (port: number): PostgresServer {
  const dir = workDir('primary')
  run(path.join(bindir(), 'initdb'), ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'], { asPostgres: true })
  writeFileSync(path.join(dir, 'postgresql.auto.conf'), [
    "listen_addresses = '127.0.0.1'", 'wal_level = replica', 'max_wal_senders = 10', 'fsync = off',
    'synchronous_commit = on', 'shared_buffers = 128MB', 'max_connections = 200', ''
  ].join('\n'))
  if (asRoot) chownSync(path.join(dir, 'postgresql.auto.conf'), postgresUid(), postgresGid())
  const server = postgresServer(dir, port)
  server.start()
  return server
}

/** A streaming replica of `primary`, made the way the PostgreSQL documentation describes: pg_basebackup -R. */
export function startReplica (primary: PostgresServer, port: number): PostgresServer {
  const dir = workDir('replica')
  run(path.join(bindir(), 'pg_basebackup'), ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', dir, '-R', '-X', 'stream', '-c', 'fast'], { asPostgres: true })
  const server = postgresServer(dir, port)
  server.start()
  return server
}

export interface ChildServer {
  stop: () => Promise<void>
  start: () => Promise<void>
  output: () => string
}

function childServer (command: string, args: readonly string[], ready: () => Promise<boolean>): ChildServer {
  let child: ChildProcess | undefined
  let output = ''
  const start = async () => {
    child = spawn(command, args as string[], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`${command} exited: ${output.slice(-2000)}`)
      if (await ready()) return
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(`${command} did not start: ${output.slice(-2000)}`)
  }
  const stop = async () => {
    if (child === undefined || child.exitCode !== null) return
    const exited = new Promise((resolve) => child!.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
  return { start, stop, output: () => output }
}

/** A Redis server of the test's own (not the machine's), so the test may stop it. */
export async function startRedis (port: number): Promise<ChildServer> {
  ensureInstalled('redis-server', ['redis-server'])
  const server = childServer('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], async () => {
    try {
      return run('redis-cli', ['-p', String(port), 'ping']).trim() === 'PONG'
    } catch {
      return false
    }
  })
  await server.start()
  return server
}

/**
 * PgBouncer in front of `primary`, in its defaults otherwise (it refuses a connection that
 * sends startup parameters it does not know, such as `options`): every database by its own
 * name pooled per session, and `per_transaction` (the primary's `postgres`) pooled per
 * transaction, as managed poolers' transaction endpoints are.
 */
export async function startPgBouncer (port: number, primary: PostgresServer): Promise<ChildServer & { url: (database?: string) => string }> {
  ensureInstalled('pgbouncer', ['pgbouncer'])
  const dir = workDir('pgbouncer')
  const users = path.join(dir, 'users.txt')
  const config = path.join(dir, 'pgbouncer.ini')
  writeFileSync(users, '"postgres" ""\n')
  writeFileSync(config, [
    '[databases]', `per_transaction = host=127.0.0.1 port=${primary.port} dbname=postgres pool_mode=transaction`, `* = host=127.0.0.1 port=${primary.port}`,
    '[pgbouncer]', 'listen_addr = 127.0.0.1', `listen_port = ${port}`, `unix_socket_dir = ${dir}`,
    'auth_type = trust', `auth_file = ${users}`, 'pool_mode = session', 'max_client_conn = 200', 'default_pool_size = 40', ''
  ].join('\n'))
  if (asRoot) for (const file of [users, config]) chownSync(file, postgresUid(), postgresGid())
  // It refuses to run as root: -u switches to the postgres user, as PostgreSQL's own commands do here.
  const server = childServer('pgbouncer', [...(asRoot ? ['-u', 'postgres'] : []), config], async () => {
    const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`, connectionTimeoutMillis: 1_000 })
    try {
      await client.connect()
      await client.query('SELECT 1')
      return true
    } catch {
      return false
    } finally {
      await client.end().catch(() => {})
    }
  })
  await server.start()
  return { ...server, url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}` }
}

/** Varnish in front of the API processes, with xkey purges allowed from 127.0.0.1 only. */
export async function startVarnish (port: number, backends: readonly number[]): Promise<ChildServer & { workDir: string }> {
  ensureInstalled('varnishd', ['varnish', 'varnish-modules'], () => {
    try {
      return run('sh', ['-c', 'ls $(pkg-config --variable=vmoddir varnishapi 2>/dev/null || echo /usr/lib/varnish/vmods) | grep -q xkey && echo yes']).trim() === 'yes'
    } catch {
      return false
    }
  })
  const dir = mkdtempSync(path.join(tmpdir(), 'scale-out-varnish-'))
  chmodSync(dir, 0o755)
  const vcl = path.join(dir, 'default.vcl')
  writeFileSync(vcl, varnishVcl(backends))
  const server = childServer('varnishd', ['-F', '-a', `127.0.0.1:${port}`, '-f', vcl, '-n', path.join(dir, 'n'), '-s', 'malloc,128m', '-p', 'default_grace=0'], async () =>
    fetch(`http://127.0.0.1:${port}/healthz`).then((res) => res.status < 500, () => false))
  await server.start()
  return { ...server, workDir: dir }
}

/**
 * deploy/varnish/default.vcl (the docker-compose profile's) with this test's addresses: the
 * backends api-1 and api-2 on 127.0.0.1 and the given ports, and purges allowed from 127.0.0.1.
 */
export function varnishVcl (backends: readonly number[]): string {
  if (backends.length !== 2) throw new Error('the VCL names two API processes')
  let vcl = readFileSync(new URL('../../deploy/varnish/default.vcl', import.meta.url), 'utf8')
  for (const [i, port] of backends.entries()) {
    const host = `api-${i + 1}`
    vcl = vcl.replace(`.host = "${host}";\n  .port = "3000";`, `.host = "127.0.0.1";\n  .port = "${port}";`)
  }
  vcl = vcl.replace('acl purgers { "api-1"; "api-2"; }', 'acl purgers { "127.0.0.1"; }')
  if (/"api-\d"/.test(vcl)) throw new Error('deploy/varnish/default.vcl changed shape: backends or purgers not replaced')
  return vcl
}
