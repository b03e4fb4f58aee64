import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

// Load and benchmark runs measure what production runs: the compiled server (dist/), built
// first if any source is newer than the last build (the same check `npm start` makes), with the
// Node flags `npm start` gives it (package.json's start script is the one place they are set).

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** `npm start`'s command as words: `node`, its flags, the script. */
export function startCommand (): string[] {
  const pkg = JSON.parse(readFileSync(new URL('package.json', `file://${ROOT}`), 'utf8')) as { scripts: { start: string } }
  return pkg.scripts.start.split(/\s+/)
}

/** The arguments for `node` that start the compiled API server, after making sure it is built. */
export function compiledServerArgs (): string[] {
  const build = spawnSync(process.execPath, ['bin/build-if-stale.js'], { cwd: ROOT, stdio: 'inherit' })
  if (build.status !== 0) throw new Error('building the server failed')
  const [node, ...args] = startCommand()
  if (node !== 'node') throw new Error(`npm start runs ${node}, not node`)
  return args
}
