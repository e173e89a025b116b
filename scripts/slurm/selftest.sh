#!/bin/sh
# Proves the private Slurm works end to end: a 4-task job array, each task writing one file,
# and a job chained on it with afterok that concatenates them; waits (VQ_SLURM_JOB_TIMEOUT
# seconds, 120) and checks the result, the job states, the --mem each job was given and that
# jobs see the submitting shell's environment. Starts the cluster when it is not up, and then
# stops it again; a cluster that was already up is left up. Exit 77 with `skip: <why>` when
# Slurm cannot run here (see check.sh).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
timeout=${VQ_SLURM_JOB_TIMEOUT:-120}
t0=$(date +%s.%N)

fail() { echo "selftest.sh: FAIL: $*" >&2; exit 1; }
elapsed() { echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f s", $1 - $2 }'; }

if up; then
    started=no
else
    started=yes
    out=$("$here/check.sh") || {
        rc=$?
        echo "$out" # skip: <why> (77) or fail: <why> (1)
        exit $rc
    }
fi
work=$(mktemp -d)
ok=no
cleanup() {
    if [ $started = yes ]; then "$here/stop.sh" 2>/dev/null; fi
    if [ $ok = yes ]; then rm -rf "$work"; else echo "selftest.sh: job files kept in $work" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM # so the EXIT trap stops the cluster on ^C too
echo "selftest.sh: cluster up after $(elapsed) (started here: $started)"

# Jobs run as the submitter (root) from slurmd, not from this shell: the working directory and
# the output file are given explicitly. The marker proves --export=ALL (the default) carries
# this shell's environment into the job.
VQ_SLURM_MARK=mark-$$
export VQ_SLURM_MARK
array=$(sbatch --parsable --job-name=vq-selftest --array=0-3 --cpus-per-task=1 --mem=100M \
    --chdir="$work" --output="$work/task-%A_%a.out" \
    --wrap='echo "task $SLURM_ARRAY_TASK_ID $VQ_SLURM_MARK" >part-$SLURM_ARRAY_TASK_ID')
array=${array%%;*} # --parsable prints "id" or "id;cluster"
merge=$(sbatch --parsable --job-name=vq-selftest-merge --dependency=afterok:"$array" \
    --cpus-per-task=1 --mem=100M --chdir="$work" --output="$work/merge.out" \
    --wrap='cat part-0 part-1 part-2 part-3 >merged')
merge=${merge%%;*}
echo "selftest.sh: submitted array $array and merge $merge"

# No accounting, so no sacct: poll squeue, which keeps finished jobs (-t all) for MinJobAge
# (300 s) after they end.
deadline=$(($(date +%s) + timeout))
while :; do
    state=$(squeue -h -t all -j "$merge" -o %T 2>/dev/null || true)
    case $state in
    COMPLETED) break ;;
    PENDING | CONFIGURING | RUNNING | COMPLETING) ;;
    *)
        reason=$(scontrol show job "$merge" | grep -o 'Reason=[^ ]*')
        tasks=$(squeue -h -t all -j "$array" -o '%i %T' | xargs)
        fail "merge job $merge ended $state ($reason); array: $tasks"
        ;;
    esac
    [ "$(date +%s)" -lt "$deadline" ] || fail "merge job $merge still $state after $timeout s"
    sleep 0.5
done
echo "selftest.sh: merge done after $(elapsed)"

states=$(squeue -h -t all -j "$array" -o '%i %T' | sort)
[ "$(echo "$states" | grep -c ' COMPLETED$')" = 4 ] || fail "array tasks: $states"
codes=$(scontrol show job "$array" | grep -o 'ExitCode=[^ ]*' | sort | uniq -c | xargs)
[ "$codes" = "4 ExitCode=0:0" ] || fail "array exit codes: $codes"
# CR_Core_Memory: each job holds exactly the core and memory it asked for.
tres=$({ scontrol show job "$array" && scontrol show job "$merge"; } |
    grep -o ' TRES=[^ ]*' | sort | uniq -c | xargs)
[ "$tres" = "5 TRES=cpu=1,mem=100M,node=1,billing=1" ] || fail "jobs were given $tres"
expected=$(for i in 0 1 2 3; do echo "task $i $VQ_SLURM_MARK"; done)
[ "$(cat "$work/merged")" = "$expected" ] || fail "merged file differs: $(cat "$work/merged")"
ok=yes
echo "selftest.sh: ok ($(elapsed) so far; array tasks: $(echo "$states" | xargs))"
