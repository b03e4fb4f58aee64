import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

// What a fresh process does while it runs a piece of code: which modules it resolves (its module
// loader reports each one, a resolve hook, so an import added anywhere, at any depth, is seen),
// or whatever else the piece of code reports on its standard output.

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

const REPORT_RESOLVED = 'data:text/javascript,' + encodeURIComponent(`
  let port
  export function initialize (data) { port = data.port }
  export async function resolve (specifier, context, next) {
    const resolved = await next(specifier, context)
    port.postMessage(resolved.url)
    return resolved
  }`)

/** Runs `script` (an ES module's text) in a fresh process from the project's root, through tsx; its standard output. */
export function runInFreshProcess (script: string, env: Record<string, string> = {}): string {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000
  })
  if (child.status !== 0) throw new Error(`the child process failed: ${child.stderr}`)
  return child.stdout
}

/** The URLs of the modules resolved while `body` (an ES module's text, run from the project's root) ran. */
export function modulesLoadedBy (body: string, env: Record<string, string> = {}): string[] {
  return JSON.parse(runInFreshProcess(`
    import { register } from 'node:module'
    import { MessageChannel } from 'node:worker_threads'
    const { port1, port2 } = new MessageChannel()
    const seen = []
    port1.on('message', (url) => seen.push(url))
    register(${JSON.stringify(REPORT_RESOLVED)}, { data: { port: port2 }, transferList: [port2] })
    ${body}
    await new Promise((resolve) => setTimeout(resolve, 200))
    port1.close()
    process.stdout.write(JSON.stringify(seen))`, env)) as string[]
}
