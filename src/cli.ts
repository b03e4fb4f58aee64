import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { buildApp } from './app.ts'
import { ConfigError, loadConfig } from './config.ts'
import { offlineDatabase, openDatabase } from './db/database.ts'
import { migrateAllDown, migrateDown, migrateToLatest } from './db/migrator.ts'
import { seedDemo } from './demo/seed-demo.ts'
import { listApiKeys, revokeApiKey } from './access/api-keys/api-keys.repository.ts'
import { CreateApiKeyBodySchema } from './access/api-keys/api-keys.schemas.ts'
import { createApiKey } from './access/api-keys/api-keys.service.ts'
import { AppError } from './http/errors.ts'
import { PACKAGE_ROOT } from './package-root.ts'

// `npm run cli -- <command>`. Every failure exits non-zero: a failed migration or seed must
// never look like success to CI or to a deploy script.

const USAGE = `usage: content-api <command>

commands:
  help                 show this text
  migrate              apply every pending migration
  migrate down [--all] undo the latest migration (or all of them)
  seed-demo            load the demo content (idempotent)
  openapi [FILE]       write the OpenAPI document (default openapi/openapi.json)
  keys create --name NAME --scopes SCOPE[,SCOPE] [--format ghost]
                       (ghost: a Ghost Content API key, scopes content:read)
                       make an API key; the key alone is printed on the last line
  keys list            list keys (never their secrets)
  keys revoke ID       revoke a key at once
`

export const OPENAPI_FILE = path.join(PACKAGE_ROOT, 'openapi', 'openapi.json')

/** The OpenAPI document as committed: generated from the routes with the default settings. */
export async function generateOpenApiDocument (): Promise<string> {
  const app = await buildApp({ config: loadConfig({}), database: offlineDatabase(), logger: pino({ level: 'silent' }), backgroundJobs: false })
  await app.ready()
  const document = JSON.stringify(app.swagger(), null, 2) + '\n'
  await app.close()
  return document
}

async function withDatabase<T> (work: (database: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const database = await openDatabase(loadConfig().database)
  try {
    return await work(database)
  } finally {
    await database.close()
  }
}

async function main (args: string[]): Promise<void> {
  const [command, ...rest] = args
  switch (command) {
    case 'migrate': {
      if (rest[0] === 'down') {
        const undone = await withDatabase((d) => rest.includes('--all') ? migrateAllDown(d.db) : migrateDown(d.db))
        console.log(undone.length === 0 ? 'nothing to undo' : `undone: ${undone.join(', ')}`)
      } else if (rest.length === 0) {
        const applied = await withDatabase((d) => migrateToLatest(d.db))
        console.log(applied.length === 0 ? 'schema is up to date' : `applied: ${applied.join(', ')}`)
      } else {
        throw new UsageError(`unknown migrate argument: ${rest.join(' ')}`)
      }
      return
    }
    case 'seed-demo': {
      const inserted = await withDatabase(async (d) => {
        await migrateToLatest(d.db)
        return seedDemo(d.db)
      })
      console.log(`demo content: inserted ${inserted.blogs} blogs, ${inserted.authors} authors, ${inserted.tags} tags, ${inserted.posts} posts`)
      return
    }
    case 'openapi': {
      const file = path.resolve(rest[0] ?? OPENAPI_FILE)
      await mkdir(path.dirname(file), { recursive: true })
      await writeFile(file, await generateOpenApiDocument())
      console.log(`wrote ${path.relative(process.cwd(), file)}`)
      return
    }
    case 'keys': {
      await keysCommand(rest)
      return
    }
    case 'help': case '--help': case '-h': {
      process.stdout.write(USAGE)
      return
    }
    default:
      throw new UsageError(command === undefined ? 'no command given' : `unknown command: ${command}`)
  }
}

class UsageError extends Error {}

function option (args: string[], name: string): string | undefined {
  const at = args.indexOf(name)
  return at === -1 ? undefined : args[at + 1]
}

async function keysCommand ([sub, ...args]: string[]): Promise<void> {
  if (sub === 'create') {
    const name = option(args, '--name')
    const scopes = (option(args, '--scopes') ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    const format = option(args, '--format')
    const parsed = CreateApiKeyBodySchema.safeParse({ name, scopes, ...(format === undefined ? {} : { format }) })
    if (!parsed.success) throw new UsageError(`keys create: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`).join('; ')}`)
    const { row, key } = await withDatabase(async (d) => {
      await migrateToLatest(d.db)
      return createApiKey(d.db, parsed.data.name, parsed.data.scopes, parsed.data.format)
    }).catch((error: unknown) => { throw error instanceof AppError ? new UsageError(`keys create: ${error.message}`) : error })
    console.log(`created key ${row.id} "${row.name}" with scopes ${row.scopes.join(',')}; store it now, it is not shown again:`)
    console.log(key)
  } else if (sub === 'list') {
    const rows = await withDatabase((d) => listApiKeys(d.db, { limit: 10_000 }))
    for (const row of rows) {
      console.log([row.id, row.prefix, row.scopes.join(','), row.revoked_at === null ? 'active' : `revoked ${row.revoked_at.toISOString()}`,
        `last used ${row.last_used_at?.toISOString() ?? 'never'}`, row.name].join('\t'))
    }
  } else if (sub === 'revoke' && args[0] !== undefined) {
    const id = args[0]
    const row = await withDatabase((d) => revokeApiKey(d.db, id))
    if (row === undefined) throw new Error(`no active key with id ${id}`)
    console.log(`revoked ${row.id} "${row.name}"`)
  } else {
    throw new UsageError('keys: use create, list or revoke ID')
  }
}

/** Runs one command; any failure is written to stderr and sets a non-zero exit code. */
export async function runCli (args: string[]): Promise<void> {
  await main(args).catch((error: unknown) => {
    if (error instanceof UsageError) process.stderr.write(`${error.message}\n\n${USAGE}`)
    else if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`)
    else process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  })
}

// Run directly (`tsx src/cli.ts`, `node dist/src/cli.js`); bin/content-api.js calls runCli.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runCli(process.argv.slice(2))
}
