# Server benchmarks (sourced by scripts/bench): ingestion time and memory on SQLite and
# PostgreSQL, and API latency under load (wrk, 50 connections, 30 s) with 100,000 conversations.
# shellcheck shell=bash

PP="$ROOT/target/release/powerpulse"
BIG="$ROOT/bench-data/export-18k.json"

start_server() { # $1 database url, $2 port; sets SERVER_PID
  DATABASE_URL="$1" PORT="$2" MAX_FILE_SIZE="${MAX_FILE_SIZE:-104857600}" RUST_LOG=warn APP_DIR="$ROOT/dist" "$PP" serve &
  SERVER_PID=$!
  for _ in $(seq 1 100); do "$PP" healthcheck --url "http://127.0.0.1:$2" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "server did not start" >&2; return 1
}

stop_server() { kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; }

peak_mb() { awk '/VmHWM/ {printf "%d", $2/1024}' "/proc/$1/status"; }
rss_mb() { awk '/VmRSS/ {printf "%d", $2/1024}' "/proc/$1/status"; }

time_upload() { # $1 port, $2 file -> seconds
  curl -s -o /dev/null -w '%{time_total}' -X POST "http://127.0.0.1:$1/api/upload-json" -F "file=@$2"
}

pg_start() { # sets PG_DIR, PG_URL
  PG_DIR=$(mktemp -d /tmp/pp-bench-pg.XXXX)
  local bin; bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  local run=(); [ "$(id -u)" = 0 ] && { chown postgres "$PG_DIR"; run=(runuser -u postgres --); }
  "${run[@]}" "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
  local port=55499
  "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200" -l "$PG_DIR/log" -w start >/dev/null
  PG_BIN=$bin; PG_RUN=("${run[@]}")
  PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

pg_db() { "${PG_RUN[@]}" "$PG_BIN/psql" "$PG_URL" -qc "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null; echo "${PG_URL%/postgres}/$1"; }

pg_stop() { "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null; rm -rf "$PG_DIR"; }

bench_ingest() {
  log "ingestion of $(du -m "$BIG" | cut -f1) MB (upload to 200 response), fresh store each run"
  pg_start
  local peak=0
  for store in sqlite postgres; do
    local slowest=0
    for run in 1 2 3; do
      if [ $store = sqlite ]; then rm -f /tmp/pp-bench.db*; url="sqlite:///tmp/pp-bench.db"; else url=$(pg_db "bench$run"); fi
      start_server "$url" 8091
      s=$(time_upload 8091 "$BIG")
      mb=$(peak_mb "$SERVER_PID")
      echo "  $store run $run: ${s} s, server peak memory $mb MB"
      slowest=$(awk "BEGIN{print ($s > $slowest) ? $s : $slowest}")
      peak=$((mb > peak ? mb : peak))
      stop_server
    done
    figure "ingest_${store}_s" "$slowest"
  done
  figure ingest_peak_mb "$peak"
  pg_stop
}

bench_load() {
  log "API under load: 100,000 conversations stored, wrk 50 connections x 30 s per endpoint (SQLite)"
  mkdir -p "$ROOT/bench-data/100k"
  for i in 1 2 3 4 5 6; do
    f="$ROOT/bench-data/100k/part$i.json"
    [ -f "$f" ] || "$PP" generate --conversations 17400 --seed $((100 + i)) --days 60 -o "$f"
  done
  rm -f /tmp/pp-load.db*
  start_server "sqlite:///tmp/pp-load.db" 8092
  for i in 1 2 3 4 5 6; do time_upload 8092 "$ROOT/bench-data/100k/part$i.json" >/dev/null; done
  total=$(curl -s "http://127.0.0.1:8092/api/metrics" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_conversations"])')
  echo "  stored conversations: $total"
  lua=$(mktemp --suffix .lua)
  cat > "$lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("    p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms  %.0f req/s  errors %d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests / (summary.duration / 1e6),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
LUA
  local errors=0
  for path in "/api/metrics" "/api/metrics?start_date=2025-08-10&end_date=2025-08-20" "/api/conversations" "/api/conversations?page=40&page_size=50&sort_by=first_message_time"; do
    echo "  GET $path"
    out=$(wrk -t2 -c50 -d"${LOAD_SECONDS:-30}"s -s "$lua" "http://127.0.0.1:8092$path")
    echo "$out" | grep -E "p50|Non-2xx" | sed 's/^/  /'
    p95=$(echo "$out" | awk '/p50/ {for (i = 1; i <= NF; i++) if ($i == "p95") print $(i + 1)}')
    errors=$((errors + $(echo "$out" | awk '/p50/ {print $NF}')))
    case "$path" in
      /api/metrics) figure load_metrics_p95_ms "$p95" ;;
      /api/metrics\?*) figure load_metrics_dates_p95_ms "$p95" ;;
      /api/conversations) figure load_conversations_p95_ms "$p95" ;;
    esac
  done
  figure load_errors "$errors"
  echo "  uncached computation (first request after each data change):"
  for path in "/api/metrics" "/api/metrics?start_date=2025-08-10&end_date=2025-08-20&tz=Africa/Nairobi"; do
    curl -s -o /dev/null -X POST "http://127.0.0.1:8092/api/upload-json" -F "file=@$ROOT/bench-data/100k/part1.json" -F force_reprocess=true
    printf '    %s: %s s\n' "$path" "$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:8092$path")"
  done
  stop_server
  rm -f "$lua"
}

# Median of the times (seconds) of five GETs of $1 (a path on port $2), in milliseconds.
median_ms() {
  for _ in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$2$1"; done |
    sort -n | awk '{v[NR] = $1} END {printf "%.1f", v[3] * 1000}'
}

bench_scale() {
  # Stores growing to each N of SCALE_N (default 100,000 then 300,000; the issue's 1M and 3M
  # take 30 and 100 minutes here), in parts of 100,000 generated conversations over a year.
  local sizes="${SCALE_N:-100000 300000}" stores="${SCALE_STORES:-sqlite}"
  mkdir -p "$ROOT/bench-data/scale"
  for store in $stores; do
    log "scale on $store: upload parts of 100,000 conversations, then the API at each size"
    if [ "$store" = sqlite ]; then rm -f /tmp/pp-scale.db*; url="sqlite:///tmp/pp-scale.db"; else pg_start; url=$(pg_db scale); fi
    MAX_FILE_SIZE=$((400 << 20)) start_server "$url" 8093
    local have=0 part=0
    for n in $sizes; do
      while [ "$have" -lt "$n" ]; do
        part=$((part + 1))
        # The first ten parts are kept for the next run; later ones (2.7 GB per million) are
        # generated, uploaded and removed.
        f="$ROOT/bench-data/scale/part$part.json"
        [ "$part" -le 10 ] || f=/tmp/pp-scale-part.json
        [ -f "$f" ] || "$PP" generate --conversations 100000 --seed $((500 + part)) --days 365 -o "$f"
        s=$(time_upload 8093 "$f")
        [ "$part" -le 10 ] || rm -f "$f"
        local before=$have
        have=$(curl -s "http://127.0.0.1:8093/api/metrics" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_conversations"])')
        rate=$(awk "BEGIN{printf \"%.0f\", ($have - $before) / $s}")
        echo "  part $part: upload ${s} s ($rate conversations/s), $have stored"
        [ "$have" -gt "$before" ] || { echo "  the upload stored nothing: stopping" >&2; stop_server; return 1; }
      done
      local agent
      agent=$(curl -s "http://127.0.0.1:8093/api/metrics/agents" |
        python3 -c 'import json, sys, urllib.parse; print(urllib.parse.quote(json.load(sys.stdin)["agents"][0]["agent"]))')
      # The first request after a change: a forced re-upload of a small part changes the data,
      # then each path is asked once (computed) and five times more (the response cache).
      "$PP" generate --conversations 200 --seed 9 -o /tmp/pp-scale-small.json
      curl -s -o /dev/null -X POST "http://127.0.0.1:8093/api/upload-json" -F "file=@/tmp/pp-scale-small.json" -F force_reprocess=true
      local i=0
      for path in "/api/metrics" "/api/metrics?start_date=2026-03-01&end_date=2026-03-31" \
                  "/api/metrics?start_date=2026-03-02&end_date=2026-03-08&tz=Africa/Nairobi" \
                  "/api/metrics?agent=$agent" "/api/metrics/daily" "/api/metrics/daily?tz=Africa/Nairobi" \
                  "/api/metrics/agents"; do
        first=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:8093$path" | awk '{printf "%.0f", $1 * 1000}')
        echo "    GET $path: first after a change $first ms, repeated $(median_ms "$path" 8093) ms"
        i=$((i + 1))
        figure "scale_${store}_${have}_first_ms_$i" "$first"
      done
      # Searches, each asked once (a repeated one is answered from the list cache).
      q=$(for term in "no%20power" "hakuna%20stima" "meter%20number" "token%20not" "asante%20sana" "bill" "kplc"; do
            curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:8093/api/conversations?q=$term&sort_by=first_message_time"
          done | sort -n | awk '{v[NR] = $1} END {printf "%.1f", v[4] * 1000}')
      echo "    GET /api/conversations?q=... (7 searches, each once): median $q ms"
      # Sorts by a column that can be empty, both ways (nulls last), and a search sorted so.
      for path in "sort_by=satisfaction_score" "sort_by=satisfaction_score&sort_order=asc" \
                  "sort_by=avg_response_time_minutes&sort_order=asc&page=50" "sort_by=avg_sentiment&q=no%20power"; do
        echo "    GET /api/conversations?$path: $(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:8093/api/conversations?$path" | awk '{printf "%.0f", $1 * 1000}') ms"
      done
      echo "  server memory now $(rss_mb "$SERVER_PID") MB, peak $(peak_mb "$SERVER_PID") MB (the peak is the upload of a 270 MB file)"
      figure "scale_${store}_${have}_q_ms" "$q"
      figure "scale_${store}_${have}_peak_mb" "$(peak_mb "$SERVER_PID")"
      figure "scale_${store}_${have}_rss_mb" "$(rss_mb "$SERVER_PID")"
      figure "scale_${store}_${have}_upload_per_s" "$rate"
    done
    stop_server
    if [ "$store" = postgres ]; then pg_stop; fi
  done
}
