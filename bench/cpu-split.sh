#!/usr/bin/env bash
# Where one request's CPU goes: the API process against PostgreSQL, per request, for one path.
#
#   DATABASE_URL=postgres://... [REVALIDATE=1] bash bench/cpu-split.sh /v1/posts [seconds] [cache MB] [--profile]
#   DATABASE_URL=postgres://... bash bench/cpu-split.sh long-tail [seconds] [cache MB] [--profile]
#
# Starts the compiled API (cache off unless a size is given), warms it for 3 s, then loads it
# with autocannon at 50 connections and reads the CPU time (user + system, all threads) the API
# process and every PostgreSQL server process used meanwhile, from /proc. PostgreSQL must run on
# this machine, as the database of a benchmark run (bench/README.md). With --profile the API
# also writes a V8 CPU profile to bench/.profile/ (open it in Chrome's DevTools). With
# REVALIDATE=1 every request carries the path's current ETag in If-None-Match: the 304 path.
# RATE=n sends n requests a second in all instead of as many as the API answers: at 50
# connections flat out, a cheap answer (a cached hit, a 304) is a race between the API and the
# load generator for the two cores, and the pair settles into a fast or a slow rhythm from one
# run to the next (the baseline of the 304 went from 17,000 to 34,000 req/s within one 30 s
# run); the CPU a request costs at a fixed rate below both ceilings compares two builds of the
# API without that noise.
# `long-tail` instead of a path: the benchmark's long tail (long-tail.ts), posts by blog and slug
# drawn with Zipf 1.0 from all of them; give it a cache size to see the response cache's part
# (the response cache's hit rate is printed from /metrics then); RATE holds it to a rate as well. WARM_SECONDS (default 3) is how
# long the load runs before the measured window: a cache's steady state takes some 30 s of the
# long tail to reach (its 100,000 paths asked for once and more).
set -euo pipefail
cd "$(dirname "$0")/.."

path=${1:?usage: cpu-split.sh <path> [seconds] [cache MB] [--profile]}
seconds=${2:-10}
cache_mb=${3:-0}
profile=()
if [ "${4:-}" = "--profile" ]; then
  rm -rf bench/.profile && mkdir -p bench/.profile
  profile=(--cpu-prof --cpu-prof-dir=bench/.profile)
fi
: "${DATABASE_URL:?set DATABASE_URL to the benchmark database}"
port=${PORT:-3999}

ticks () { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
postgres_ticks () {
  local total=0 pid
  for pid in $(pgrep -x postgres || true); do total=$((total + $(ticks "$pid"))); done
  echo "$total"
}

node bin/build-if-stale.js > /dev/null
# `npm start`'s command (package.json), with the profiler's flags after its own.
read -ra start <<< "$(node -p 'require("./package.json").scripts.start')"
# An admin key of the benchmark's kind, to read the response cache's counters from /metrics.
admin_key="benchadmin_$(printf 'b%.0s' $(seq 43))"
NODE_ENV=production SEED_DEMO=false LOG_LEVEL=warn RESPONSE_CACHE_MAX_MB="$cache_mb" ADMIN_API_KEY="$admin_key" \
  RATE_LIMIT_ANONYMOUS=1000000 RATE_LIMIT_READ=1000000 PORT="$port" HOST=127.0.0.1 \
  "${start[0]}" "${profile[@]}" "${start[@]:1}" &
api=$!
trap 'kill -INT $api 2> /dev/null || true' EXIT
until curl -s -o /dev/null "http://127.0.0.1:$port/readyz"; do
  # A server that stopped (a migration it does not know, a taken port) is never ready.
  kill -0 "$api" 2> /dev/null || { echo "the API exited before it was ready" >&2; exit 1; }
  sleep 0.3
done

url="http://127.0.0.1:$port$path"
headers=()
if [ "${REVALIDATE:-}" = 1 ]; then
  etag=$(curl -s -o /dev/null -D - "$url" | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" { print $2 }')
  [ -n "$etag" ] || { echo "$path answered without an ETag" >&2; exit 1; }
  headers=(-H "if-none-match=$etag")
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "if-none-match: $etag" "$url")" = 304 ] || { echo "$path did not answer 304 to its own ETag" >&2; exit 1; }
fi
if [ "$path" = long-tail ]; then
  paths_file=$(mktemp -d)/long-tail-paths.json
  load () { npx tsx bench/long-tail-load.ts "http://127.0.0.1:$port" "$1" "$paths_file" "${RATE:-}"; }
else
  rate=()
  [ -n "${RATE:-}" ] && rate=(-R "$RATE")
  load () { npx autocannon -c 50 "${rate[@]}" -d "$1" "${headers[@]}" --json "$url" 2> /dev/null | node -e 'let s = ""; process.stdin.on("data", (d) => { s += d }).on("end", () => console.log(JSON.parse(s).requests.total))'; }
fi
load "${WARM_SECONDS:-3}" > /dev/null
api_before=$(ticks "$api"); pg_before=$(postgres_ticks)
requests=$(load "$seconds")
api_after=$(ticks "$api"); pg_after=$(postgres_ticks)
hz=$(getconf CLK_TCK)

node -e '
const [requests, seconds, apiTicks, pgTicks, hz] = process.argv.slice(1).map(Number)
const perRequest = (ticks) => (ticks / hz / requests * 1000).toFixed(3) + " ms"
console.log(`${requests} requests in ${seconds} s (${Math.round(requests / seconds)} req/s)`)
console.log(`CPU per request: API ${perRequest(apiTicks)}, PostgreSQL ${perRequest(pgTicks)}`)
' "$requests" "$seconds" "$((api_after - api_before))" "$((pg_after - pg_before))" "$hz"
grep VmHWM "/proc/$api/status"
if [ "$cache_mb" != 0 ]; then
  curl -s -H "authorization: Bearer $admin_key" "http://127.0.0.1:$port/metrics" |
    awk '/^response_cache_lookups_total/ { split($1, label, "\""); n[label[2]] = $2 }
      END { all = n["hit"] + n["shared"] + n["miss"]; if (all > 0) printf "response cache: %.1f %% of %d lookups hits, warm-up included\n", 100 * (n["hit"] + n["shared"]) / all, all }'
fi
