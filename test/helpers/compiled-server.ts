import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

// Load and benchmark runs measure what production runs: the compiled server (dist/), built
// first if any source is newer than the last build (the same check `npm start` makes).

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** The arguments for `node` that start the compiled API server, after making sure it is built. */
export function compiledServerArgs (): string[] {
  const build = spawnSync(process.execPath, ['bin/build-if-stale.js'], { cwd: ROOT, stdio: 'inherit' })
  if (build.status !== 0) throw new Error('building the server failed')
  return ['dist/src/server.js']
}
