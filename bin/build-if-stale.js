#!/usr/bin/env node
// Runs before `npm start`: production runs the compiled JavaScript in dist/, so compile first
// when any source file is newer than the last build (or there is none). A fresh clone is built
// by `npm install` already; this catches an edit or a `git pull` since.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const built = path.join(root, 'dist', '.tsbuildinfo')

function newestChange (dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestChange(full) : statSync(full).mtimeMs)
  }
  return newest
}

const builtAt = (() => { try { return statSync(built).mtimeMs } catch { return 0 } })()
const sources = ['src', 'migrations', 'tsconfig.json', 'tsconfig.build.json', 'package.json']
  .map((name) => path.join(root, name))
  .map((file) => statSync(file).isDirectory() ? newestChange(file) : statSync(file).mtimeMs)
if (Math.max(...sources) > builtAt) {
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
  process.exit(tsc.status ?? 1)
}
