#!/usr/bin/env bash
# Load test of followd on loopback with wrk (installed from Debian if
# missing), side by side in one run:
#   reads:  GET relationship through followd  vs  a plain axum route
#           answering a constant JSON body (examples/plain_axum.rs)
#   writes: follow/unfollow through followd at 16 connections  vs  the
#           library called directly by 16 tasks (examples/direct_writes.rs)
# Prints requests/s, p50 and p99 of each and the two ratios.
# BENCH_SECONDS (default 10) sets each run's length, BENCH_ROUNDS (default
# 3) how many times the four runs alternate.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${BENCH_SECONDS:-10}"
CONNECTIONS=16
if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --quiet --release --locked -p follow-gateway --bin followd --example plain_axum --example direct_writes
BIN=target/release
RUN="$PWD/target/bench-gateway"
rm -rf "$RUN"
mkdir -p "$RUN"
KEY="bench-admin-key"
CHANNEL="120363012345678901@newsletter"
cat >"$RUN/followd.toml" <<TOML
listen = "127.0.0.1:0"
database = "$RUN/follow.db"
[[api_keys]]
name = "bench"
sha256 = "$(printf %s "$KEY" | $BIN/followd hash-key)"
tenant = "acme"
capabilities = ["read", "send", "admin"]
TOML

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
start() { # start NAME COMMAND...: runs it, waits for "listening on", echoes the address
  local name=$1; shift
  "$@" >"$RUN/$name.out" 2>"$RUN/$name.log" &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    grep -q '^listening on ' "$RUN/$name.out" 2>/dev/null && break
    sleep 0.1
  done
  sed -n 's/^listening on //p' "$RUN/$name.out"
}
# Request logs at info cost a line per request; a loaded service logs warnings.
FOLLOWD=$(RUST_LOG=warn start followd $BIN/followd --config "$RUN/followd.toml")
PLAIN=$(start plain $BIN/examples/plain_axum)
auth=(-H "Authorization: Bearer $KEY")
curl -fsS -X PUT "${auth[@]}" "http://$FOLLOWD/api/v1/channels/$CHANNEL"
for i in $(seq 0 $((CONNECTIONS - 1))); do
  curl -fsS -X PUT "${auth[@]}" "http://$FOLLOWD/api/v1/sessions/s$i"
done
curl -fsS -X POST "${auth[@]}" "http://$FOLLOWD/api/v1/sessions/s0/channels/$CHANNEL:follow"

cat >"$RUN/writes.lua" <<'LUA'
-- Each connection alternates follow and unfollow on a session of its own.
local counter = 0
thread_id = 0
local threads = 0
function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end
request = function()
  counter = counter + 1
  local session = "s" .. ((thread_id * 8 + (counter % 8)) % 16)
  local verb = (math.floor(counter / 8) % 2 == 0) and "follow" or "unfollow"
  return wrk.format("POST", "/api/v1/sessions/" .. session .. "/channels/120363012345678901@newsletter:" .. verb)
end
LUA

wrk_run() { # wrk_run NAME ARGS...: requests/s, p50 ms, p99 ms
  local name=$1; shift
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --latency "$@" >"$RUN/$name.wrk"
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    / [0-9]+ requests in / { }
    /Non-2xx/ { bad = $NF }
    END { printf "%.0f %.3f %.3f %s\n", rps, p50, p99, (bad == "" ? 0 : bad) }
  ' "$RUN/$name.wrk"
}

# The machine is shared: the runs alternate, ROUNDS times, and the best
# round of each is compared (the one least disturbed by other work).
ROUNDS="${BENCH_ROUNDS:-3}"
: >"$RUN/rounds.txt"
for round in $(seq 1 "$ROUNDS"); do
  echo "plain $(wrk_run plain "http://$PLAIN/constant")" >>"$RUN/rounds.txt"
  echo "reads $(wrk_run reads "${auth[@]}" "http://$FOLLOWD/api/v1/sessions/s0/channels/$CHANNEL")" >>"$RUN/rounds.txt"
  echo "writes $(wrk_run writes "${auth[@]}" -s "$RUN/writes.lua" "http://$FOLLOWD")" >>"$RUN/rounds.txt"
  echo "direct $($BIN/examples/direct_writes "$RUN/direct.db" "$SECONDS_EACH" "$CONNECTIONS") -" >>"$RUN/rounds.txt"
done
cleanup
PIDS=()
best() { sort -k2,2nr <(grep "^$1 " "$RUN/rounds.txt") | head -1 | cut -d' ' -f2-; }
read -r plain_rps plain_p50 plain_p99 plain_bad < <(best plain)
read -r reads_rps reads_p50 reads_p99 reads_bad < <(best reads)
read -r writes_rps writes_p50 writes_p99 writes_bad < <(best writes)
read -r direct_rps direct_p50 direct_p99 _ < <(best direct)

echo "every round (name req/s p50 p99 non-2xx):"
cat "$RUN/rounds.txt"
printf '\n%-34s %10s %9s %9s %8s\n' "best of $ROUNDS (${SECONDS_EACH}s, $CONNECTIONS concurrent)" "req/s" "p50 ms" "p99 ms" "non-2xx"
printf '%-34s %10s %9s %9s %8s\n' "plain axum constant JSON" "$plain_rps" "$plain_p50" "$plain_p99" "$plain_bad"
printf '%-34s %10s %9s %9s %8s\n' "followd GET relationship" "$reads_rps" "$reads_p50" "$reads_p99" "$reads_bad"
printf '%-34s %10s %9s %9s %8s\n' "followd POST follow/unfollow" "$writes_rps" "$writes_p50" "$writes_p99" "$writes_bad"
printf '%-34s %10s %9s %9s %8s\n' "library direct follow/unfollow" "$direct_rps" "$direct_p50" "$direct_p99" "-"
# Each round's own ratios too: the two sides of a round ran minutes apart
# at most, under the same neighbours.
awk '
  { rps[$1] = $2 }
  $1 == "direct" {
    n++
    printf "round %d: reads/plain %.2fx, writes/direct %.2fx\n", n, rps["reads"] / rps["plain"], rps["writes"] / rps["direct"]
  }
' "$RUN/rounds.txt"
awk -v r="$reads_rps" -v p="$plain_rps" -v w="$writes_rps" -v d="$direct_rps" 'BEGIN {
  printf "\nreads vs plain axum:    %.2fx (target >= 0.7x)\n", r / p
  printf "writes vs direct calls: %.2fx (target >= 0.8x)\n", w / d
}'
