import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import autocannon from 'autocannon'
import { openDatabase } from '../src/db/database.ts'
import { longTailPaths, pathsInTurn } from './long-tail.ts'

// The long tail's load for cpu-split.sh: `tsx bench/long-tail-load.ts <base URL> <seconds> <paths
// file> [rate]`, with DATABASE_URL the benchmark's database. Asks for the long tail's paths in
// their order (each connection takes the next when it sends), at 50 connections, flat out or at
// `rate` requests a second in all, and prints how many requests were answered; the exit code
// says whether any failed or answered other than 200.
// The paths are read from the file, made first when it is not there: finding them reads every
// post, which must not fall in the window whose CPU is measured.

const [base, seconds, pathsFile, rate] = [process.argv[2], Number(process.argv[3]), process.argv[4], process.argv[5]]
const overallRate = rate === undefined || rate === '' ? undefined : Number(rate)
const url = process.env.DATABASE_URL
if (base === undefined || pathsFile === undefined || url === undefined || !(seconds > 0) || (overallRate !== undefined && !(overallRate > 0))) {
  process.stderr.write('usage: DATABASE_URL=... tsx bench/long-tail-load.ts <base URL> <seconds> <paths file> [requests a second]\n')
  process.exit(2)
}

async function readOrMakePaths (file: string, databaseUrl: string): Promise<string[]> {
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as string[]
  const database = await openDatabase({ kind: 'postgres', url: databaseUrl, poolSize: 1, replicaUrls: [], maxReplicaLagSeconds: 5, statementTimeoutMs: 0, poolMode: 'session', listenUrl: databaseUrl })
  const paths = await longTailPaths(database.db).finally(() => database.close())
  await writeFile(file, JSON.stringify(paths))
  return paths
}

const paths = await readOrMakePaths(pathsFile, url)
const result = await autocannon({
  url: base,
  connections: 50,
  duration: seconds,
  ...(overallRate === undefined ? {} : { overallRate }),
  requests: pathsInTurn(paths)
})
process.stdout.write(`${result.requests.total}\n`)
if (result.errors + result.timeouts + result.non2xx > 0) {
  process.stderr.write(`long tail: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} answers other than 2xx\n`)
  process.exit(1)
}
