import { AggregatorRegistry, Histogram, Registry } from 'prom-client'
import t from 'tap'
import { routeDurations } from '../../src/http/route-durations.ts'

// The request-duration histogram is ours (route-durations.ts) only for what an observation
// costs; what Prometheus reads must be what prom-client's own Histogram would have written. The
// oracle: both fed the same observations, their registries' text and JSON must be equal.

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const NAME = 'http_request_duration_seconds'
const HELP = 'Time from request to response, by route template, method and status code.'

function pair (): { ours: Registry, theirs: Registry, observe: (method: string, route: string, status: number, seconds: number) => void } {
  const ours = new Registry()
  const theirs = new Registry()
  const durations = routeDurations(ours, { name: NAME, help: HELP, buckets: BUCKETS })
  const histogram = new Histogram({ name: NAME, help: HELP, labelNames: ['method', 'route', 'status_code'] as const, buckets: BUCKETS, registers: [theirs] })
  return {
    ours,
    theirs,
    observe (method, route, status, seconds) {
      durations.observe(method, route, status, seconds)
      histogram.observe({ method, route, status_code: String(status) }, seconds)
    }
  }
}

t.test('the exposition is prom-client\'s, byte for byte, for many series and every bucket', async (t) => {
  const { ours, theirs, observe } = pair()
  t.equal(await ours.metrics(), await theirs.metrics(), 'with nothing observed')
  // A seeded spread over every bucket and past the last, on routes whose labels need escaping.
  let seed = 42
  const next = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  const routes = ['/v1/posts', '/v1/blogs/:blog/posts/:slug', '(unmatched)', '/v1/"quoted"\\path\nline']
  const methods = ['GET', 'HEAD', 'POST']
  const statuses = [200, 304, 404, 500]
  for (let i = 0; i < 5_000; i++) {
    const seconds = next() < 0.02 ? 20 * next() : Math.exp(-9 + 9 * next())
    observe(methods[i % 3] as string, routes[i % 4] as string, statuses[(i >> 2) % 4] as number, seconds)
  }
  // Values on a bound fall in that bound's bucket (le is "less or equal").
  for (const bound of BUCKETS) observe('GET', '/v1/posts', 200, bound)
  const text = await ours.metrics()
  t.equal(text, await theirs.metrics())
  t.match(text, /http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/v1\/posts",status_code="200"\} \d+/)
  // As cluster workers send it to their primary: JSON (where an undefined field is no field).
  const asSent = async (registry: Registry): Promise<unknown> => JSON.parse(JSON.stringify(await registry.getMetricsAsJSON()))
  t.same(await asSent(ours), await asSent(theirs))
})

t.test('resetting the registry empties it, as it does prom-client\'s', async (t) => {
  const { ours, theirs, observe } = pair()
  observe('GET', '/v1/posts', 200, 0.003)
  ours.resetMetrics()
  theirs.resetMetrics()
  t.equal(await ours.metrics(), await theirs.metrics())
  observe('GET', '/v1/tags', 200, 0.2)
  t.equal(await ours.metrics(), await theirs.metrics())
})

t.test('registries merged across processes (cluster aggregation) agree', async (t) => {
  const a = pair()
  const b = pair()
  a.observe('GET', '/v1/posts', 200, 0.004)
  b.observe('GET', '/v1/posts', 200, 0.3)
  b.observe('GET', '/v1/tags', 404, 0.001)
  const ours = AggregatorRegistry.aggregate([await a.ours.getMetricsAsJSON(), await b.ours.getMetricsAsJSON()])
  const theirs = AggregatorRegistry.aggregate([await a.theirs.getMetricsAsJSON(), await b.theirs.getMetricsAsJSON()])
  t.equal(await ours.metrics(), await theirs.metrics())
})
