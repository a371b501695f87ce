#!/usr/bin/env bash
# Run make targets in order (`make test`'s stages), print "== <target>: <seconds> s" as each ends and
# a total; stop at the first that fails ("== <target>: <seconds> s, FAILED (exit N)").
set -uo pipefail
LC_NUMERIC=C  # a dot in $EPOCHREALTIME, whatever the locale
make_cmd="${MAKE:-make}"
elapsed() {
  awk -v start="$1" -v end="$EPOCHREALTIME" 'BEGIN { printf "%.1f", end - start }'
}
all="$EPOCHREALTIME"
for stage in "$@"; do
  start="$EPOCHREALTIME"
  "$make_cmd" --no-print-directory "$stage"
  rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "== $stage: $(elapsed "$start") s, FAILED (exit $rc)"
    exit "$rc"
  fi
  echo "== $stage: $(elapsed "$start") s"
done
echo "== all stages ($*): $(elapsed "$all") s"
