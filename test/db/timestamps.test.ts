import t from 'tap'
import { sql } from 'kysely'
import { parseAnyTimestamp as parsePostgresDate, parseTimestamp } from '../../src/db/timestamps.ts'
import { buildTestApp } from '../helpers/test-app.ts'

// pg's timestamptz parser replaced by one that reads PostgreSQL's UTC text by position
// (src/db/timestamps.ts): it must give the very Date postgres-date gives, for what PostgreSQL
// really sends (a fraction of any length, none, the edges of the calendar), and leave
// everything else to postgres-date.

t.test('timestamps PostgreSQL sends read as postgres-date reads them', async (t) => {
  const { app } = await buildTestApp(t)
  // Every fraction length (PostgreSQL drops trailing zeros), leap days, the ends of days and
  // years, and a spread of instants from 100 AD to 9999.
  const { rows } = await sql<{ text: string }>`
    SELECT (timestamptz '2026-12-03 09:18:26.123456+00' + make_interval(secs => i * 0.000001))::text AS text FROM generate_series(0, 999) i
    UNION ALL SELECT (timestamptz '2024-02-29 23:59:59+00' + make_interval(secs => i * 0.1))::text FROM generate_series(0, 40) i
    UNION ALL SELECT (timestamptz '2026-06-30 12:00:00+00' + make_interval(secs => i * 0.01))::text FROM generate_series(0, 199) i
    UNION ALL SELECT (timestamptz '0100-01-01 00:00:00+00' + make_interval(days => i * 3653, secs => i * 7.654321))::text FROM generate_series(0, 991) i
    UNION ALL SELECT v::timestamptz::text FROM unnest(ARRAY['1999-12-31 23:59:59.999999+00', '2000-01-01 00:00:00+00', '1970-01-01 00:00:00+00', '1969-12-31 23:59:59.5+00']) v`.execute(app.db)
  t.ok(rows.length > 2_000, `${rows.length} timestamps`)
  const differing = rows.filter(({ text }) => (parseTimestamp(text) as Date).getTime() !== (parsePostgresDate(text) as Date).getTime())
  t.same(differing.map((row) => row.text), [], 'the same instant for each')
  const fractions = new Set(rows.map(({ text }) => /\.(\d+)/.exec(text)?.[1]?.length ?? 0))
  t.same([...fractions].sort(), [0, 1, 2, 3, 4, 5, 6], 'fractions of every length were read')
})

t.test('other shapes go to postgres-date', async (t) => {
  for (const text of ['infinity', '-infinity', '2026-12-03 09:18:26.5+01', '2026-12-03 09:18:26+05:30', '2026-12-03 09:18:26-08',
    '0044-03-15 12:00:00+00 BC', '0099-06-01 00:00:00+00', '12026-12-03 09:18:26+00', '2026-12-03 09:18:2x+00', '2026-12-03 09:18:26.12x+00']) {
    const ours = parseTimestamp(text)
    const theirs = parsePostgresDate(text)
    t.same(ours instanceof Date ? ours.getTime() : ours, theirs instanceof Date ? theirs.getTime() : theirs, text)
  }
})
