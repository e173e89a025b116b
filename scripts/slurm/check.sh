#!/bin/sh
# Can a real Slurm run here? Starts the cluster with start.sh (installing it when missing) and
# leaves it up for the caller, who stops it with stop.sh. Prints `export SLURM_CONF=...` and
# exits 0 when it is up; otherwise prints `skip: <why>` and exits 77, the automake code for a
# skipped test, after stopping whatever it half started. With VQ_SLURM_REQUIRED=1 the same
# line reads `fail: <why>` and the exit code is 1, for a CI leg that must not skip.
set -eu
here=$(dirname "$0")
err=$(mktemp)
if "$here/start.sh" 2>"$err"; then
    rm -f "$err"
    exit 0
fi
why=$(grep '^start.sh: ' "$err" | tail -n 1 | sed 's/^start.sh: //')
rm -f "$err"
"$here/stop.sh" 2>/dev/null || true
if [ "${VQ_SLURM_REQUIRED:-0}" = 1 ]; then
    echo "fail: ${why:-start.sh failed}"
    exit 1
fi
echo "skip: ${why:-start.sh failed}"
exit 77
