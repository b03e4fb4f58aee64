import { spawnSync } from 'node:child_process'
import t from 'tap'
import { asyncContextAdvice } from '../../src/db/client-presence.ts'

// The server warns at start when this Node keeps AsyncLocalStorage with promise hooks (the
// client-presence store then costs every promise; README, Production). Which implementation is in
// use is asked of Node itself, in a process started with the flags that choose it.

const major = Number(process.versions.node.split('.')[0])

/** asyncContextAdvice() as a fresh process of this Node started with `flags` reports it. */
function adviceWith (flags: string[]): string {
  const script = "import { asyncContextAdvice } from './src/db/client-presence.ts'; process.stdout.write(String(asyncContextAdvice()))"
  const child = spawnSync(process.execPath, [...flags, '--import=tsx', '--input-type=module', '--eval', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } })
  if (child.status !== 0) throw new Error(`the probe exited with ${child.status}: ${child.stderr}`)
  return child.stdout
}

t.test('what is said for each runtime', async (t) => {
  t.equal(asyncContextAdvice({ version: '24.11.1', storeUsesPromiseHooks: false }), undefined)
  t.equal(asyncContextAdvice({ version: '22.23.5', storeUsesPromiseHooks: false }), undefined, 'Node 22 started with the flag')
  t.match(asyncContextAdvice({ version: '22.23.5', storeUsesPromiseHooks: true }), /^Node 22\.23\.5 keeps AsyncLocalStorage with promise hooks.*NODE_OPTIONS=--experimental-async-context-frame, or run Node 24/)
  t.match(asyncContextAdvice({ version: '24.11.1', storeUsesPromiseHooks: true }), /leave out --no-async-context-frame/)
  t.match(asyncContextAdvice({ version: '20.20.2', storeUsesPromiseHooks: true }), /run Node 24 \(README, Production\)$/)
})

t.test('this Node, as started, and with the flag that changes it', async (t) => {
  const plain = adviceWith([])
  if (major >= 24) t.equal(plain, 'undefined', 'Node 24 carries the store in AsyncContextFrame')
  else t.match(plain, /keeps AsyncLocalStorage with promise hooks/)
  if (major >= 24) t.match(adviceWith(['--no-async-context-frame']), /leave out --no-async-context-frame/)
  else if (major >= 22) t.equal(adviceWith(['--experimental-async-context-frame']), 'undefined')
  else t.comment(`Node ${process.versions.node} has no flag to change it`)
})
