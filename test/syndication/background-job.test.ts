import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import { runInBackground } from '../../src/syndication/background-job.ts'

// The loop every background job runs on (scheduled publishing, webhook delivery, the WebSub
// publisher, compaction, pruning). What the jobs rely on: one run at a time, wakes during a run
// folded into one more run, a doubling pause after failures, and a close that waits for the run
// in flight (the database closes after it). The jobs' own tests drive them through a real app;
// here a bare Fastify with a change signal that the test fires, so each rule is seen alone.

interface Harness { app: FastifyInstance, signal: () => void, warnings: string[], retryPauses: number[] }

function harness (): Harness {
  const warnings: string[] = []
  const retryPauses: number[] = []
  const write = (line: string) => {
    const entry = JSON.parse(line) as { msg: string, retryInMs?: number }
    warnings.push(entry.msg)
    if (entry.retryInMs !== undefined) retryPauses.push(entry.retryInMs)
  }
  const app = Fastify({ logger: { level: 'warn', stream: { write } } })
  const listeners = new Set<() => void>()
  app.decorate('changeSignal', {
    wait: async () => false,
    on: (listener: () => void) => { listeners.add(listener); return () => { listeners.delete(listener) } },
    closing: new AbortController().signal
  })
  return { app, signal: () => { for (const listener of listeners) listener() }, warnings, retryPauses }
}

function gate (): { promise: Promise<void>, open: () => void } {
  let open = () => {}
  const promise = new Promise<void>((resolve) => { open = resolve })
  return { promise, open }
}

const tick = async (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('one run at a time; changes during a run make one more run, not one each', async (t) => {
  const { app, signal } = harness()
  let runs = 0
  let concurrent = 0
  let most = 0
  let current = gate()
  runInBackground(app, {
    failure: 'the job failed',
    onChanges: true,
    run: async () => {
      runs++
      most = Math.max(most, ++concurrent)
      await current.promise
      concurrent--
    }
  })
  await app.ready()
  t.equal(runs, 1, 'a run when the app is ready')
  for (let i = 0; i < 5; i++) signal()
  await tick()
  t.equal(runs, 1, 'no second run while the first is going')
  const first = current
  current = gate()
  first.open()
  await tick()
  t.equal(runs, 2, 'one more run after it, for all five changes')
  current.open()
  await tick()
  t.equal(runs, 2, 'and no more')
  signal()
  await tick()
  t.equal(runs, 3, 'a change after that is a run of its own')
  t.equal(most, 1, 'never two at once')
  await app.close()
})

t.test('a failing run is tried again after a pause that doubles up to its bound; a success resets it', async (t) => {
  const { app, signal, warnings, retryPauses } = harness()
  const started: number[] = []
  let failures = 4
  runInBackground(app, {
    failure: 'the job failed',
    onChanges: true,
    retryAfterFailure: { firstMs: 20, maxMs: 50 },
    run: async () => {
      started.push(performance.now())
      if (failures-- > 0) throw new Error('not yet')
    }
  })
  await app.ready()
  while (started.length < 5) await tick(10)
  await tick(150)
  t.equal(started.length, 5, 'four failures, then the success, and nothing after it')
  t.same(retryPauses, [20, 40, 50, 50], 'the pauses logged: doubling, then held at the bound')
  // Timers never fire early (1 ms of rounding allowed); how late they fire depends on the machine.
  for (const [i, least] of retryPauses.entries()) {
    const pause = (started[i + 1] ?? NaN) - (started[i] ?? NaN)
    t.ok(pause >= least - 1, `pause ${i + 1}: ${pause.toFixed(0)} ms, at least ${least}`)
  }
  t.same(warnings, Array(4).fill('the job failed; will retry'), 'each failure logged')
  failures = 1
  signal()
  while (started.length < 7) await tick(10)
  t.same(retryPauses.slice(4), [20], 'after a success, the next failure pauses the first pause again')
  await app.close()
})

t.test('without a retry pause, a failure waits for the next timer; the job goes on after it', async (t) => {
  const { app, warnings } = harness()
  let runs = 0
  runInBackground(app, {
    failure: 'the job failed',
    everyMs: 10,
    run: async () => { if (++runs === 1) throw new Error('once') }
  })
  await app.ready()
  while (runs < 3) await tick(10)
  t.same(warnings, ['the job failed; will retry'], 'the failure logged once')
  await app.close()
  const after = runs
  await tick(50)
  t.equal(runs, after, 'no run after the app closed')
})

t.test('closing waits for the run in flight and tells it to stop', async (t) => {
  const { app, signal } = harness()
  const release = gate()
  let sawStop = false
  let finished = false
  let runs = 0
  runInBackground(app, {
    failure: 'the job failed',
    onChanges: true,
    run: async (stopped) => {
      runs++
      await release.promise
      sawStop = stopped()
      finished = true
    }
  })
  await app.ready()
  signal()
  let closed = false
  const closing = app.close().then(() => { closed = true })
  await tick(20)
  t.notOk(closed, 'the app is not closed while the run goes on')
  release.open()
  await closing
  t.ok(finished, 'the run finished before the close did')
  t.ok(sawStop, 'and could see it should stop')
  t.equal(runs, 1, 'the change that came during the run did not start another once closing')
})
