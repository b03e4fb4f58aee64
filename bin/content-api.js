#!/usr/bin/env node
// `content-api <command>` (npx content-api --help): the compiled CLI, built by `npm install`
// (the prepare script) or `npm run build`.
import { existsSync } from 'node:fs'

const compiled = new URL('../dist/src/cli.js', import.meta.url)
if (!existsSync(compiled)) {
  process.stderr.write('content-api is not built yet: run `npm run build` (npm install does it) in the project folder.\n')
  process.exit(1)
}
const { runCli } = await import(compiled.href)
await runCli(process.argv.slice(2))
