#!/bin/sh
# Stops the cluster scripts/slurm/start.sh started: its jobs first (a slurmstepd outlives
# slurmd), then slurmd, slurmctld and munged, each by the pid file start.sh left in
# $VQ_SLURM_DIR/run. Nothing else is signalled and nothing outside that folder is removed.
# Stopping a cluster that is not up is not an error.
set -eu
. "$(dirname "$0")/lib.sh"

if alive slurmctld && alive munged; then
    scancel --quiet --partition=debug 2>/dev/null || true
    i=0 # give the jobs' steps 5 s to end while slurmd can still see to it
    while [ -n "$(squeue -h -o %i 2>/dev/null)" ] && [ $i -lt 50 ]; do
        i=$((i + 1))
        sleep 0.1
    done
fi
for name in slurmd slurmctld munged; do
    pidfile=$VQ_SLURM_DIR/run/$name.pid
    if alive "$name"; then
        pid=$(cat "$pidfile")
        kill "$pid"
        i=0
        # The daemon removes its pid file as it exits: wait on the process, not the file.
        while running "$pid" "$name" && [ $i -lt 100 ]; do
            i=$((i + 1))
            sleep 0.1
        done
        if running "$pid" "$name"; then
            echo "stop.sh: $name ($pid) ignored SIGTERM for 10 s; killing it" >&2
            kill -9 "$pid" 2>/dev/null || true
        fi
        echo "stop.sh: stopped $name" >&2
    fi
    rm -f "$pidfile"
done
