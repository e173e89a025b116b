#!/bin/sh
# Starts a private single-node Slurm on localhost (munged, slurmctld, slurmd, as root), installing
# slurm-wlm and munge with apt-get when missing, and waits until the node is idle. Prints
#   export SLURM_CONF=...
# on stdout (so `eval "$(scripts/slurm/start.sh)"` works); progress goes to stderr. Running it
# again while the cluster is up changes nothing. On failure: one line naming what failed and
# its log, exit 1. scripts/slurm/stop.sh stops it. Settings: VQ_SLURM_DIR (default
# /tmp/vq-slurm), VQ_SLURM_PORT (6917), VQ_SLURM_TIMEOUT (seconds to wait, 60).
set -eu
. "$(dirname "$0")/lib.sh"
D=$VQ_SLURM_DIR
timeout=${VQ_SLURM_TIMEOUT:-60}

fail() { echo "start.sh: $*" >&2; exit 1; }
say() { echo "start.sh: $*" >&2; }

if up; then
    say "already up ($D)"
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
fi

# Daemons that launch jobs as their users must be root (SlurmdUser=root below).
[ "$(id -u)" = 0 ] || fail "not root: slurmd and slurmctld must run as root here"
# munged refuses a key or socket in a directory others can write to, whatever the umask.
# shellcheck disable=SC2174 # only a folder made here gets the mode
[ -d "$D" ] || mkdir -p -m 755 "$D"
mkdir -p "$D/etc" "$D/run" "$D/state" "$D/spool" "$D/log"
chmod 755 "$D/etc" "$D/run"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || fail "slurm-wlm is not installed and there is no apt-get"
    say "installing slurm-wlm and munge with apt-get"
    # The packages' own services stay off where policy-rc.d says so (containers); where they do
    # start, they use /etc and the default ports, which we do not.
    { apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            slurm-wlm munge; } >"$D/log/apt.log" 2>&1 ||
        fail "apt-get install slurm-wlm munge failed (log: $D/log/apt.log)"
fi

# A key of our own (munged wants it 0600 and owned by its user, root here), so the packaged
# /etc/munge/munge.key, owned by the munge user, is neither needed nor touched.
key=$D/etc/munge.key
if [ ! -s "$key" ]; then
    (umask 077 && dd if=/dev/urandom of="$key" bs=1024 count=1 2>/dev/null) ||
        fail "cannot create the munge key $key"
fi

# The node as this machine really is: sockets/cores/threads from `slurmd -C` (a node reporting
# fewer than its config is set DRAIN), memory a little below MemTotal for the same reason.
topology=$(slurmd -C | sed -n '1s/.*\(CPUs=[^ ]*\) .*\(Boards=.* ThreadsPerCore=[^ ]*\).*/\1 \2/p')
[ -n "$topology" ] || fail "cannot read the CPU layout from 'slurmd -C'"
cpus=$(echo "$topology" | sed 's/CPUs=\([0-9]*\).*/\1/')
mem_mib=$(awk '/^MemTotal:/ { print int($2 / 1024 * 0.95) }' /proc/meminfo)

cat >"$SLURM_CONF" <<CONF
# Written by scripts/slurm/start.sh: a private single-node cluster for tests.
ClusterName=vq
SlurmctldHost=$VQ_SLURM_NODE(127.0.0.1)
SlurmctldPort=$VQ_SLURM_PORT
SlurmdPort=$((VQ_SLURM_PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/run/slurmctld.pid
SlurmdPidFile=$D/run/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
# No cgroups in a container: track job processes by parent pid, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
# Cores and memory are both consumed, so --cpus-per-task and --mem decide what runs at once.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# A job without --mem gets its CPUs' share of the node, not all of it.
DefMemPerCPU=$((mem_mib / cpus))
# Schedule as soon as a job is submitted or ends, not in batches every 3 s (the default).
SchedulerParameters=batch_sched_delay=0
# Cancel a job whose dependency can no longer be met (a shard failed) instead of leaving it
# pending for ever with reason DependencyNeverSatisfied.
DependencyParameters=kill_invalid_depend
# A node that was DOWN comes back as soon as it registers with a valid config.
ReturnToService=2
NodeName=$VQ_SLURM_NODE NodeAddr=127.0.0.1 $topology RealMemory=$mem_mib State=UNKNOWN
PartitionName=debug Nodes=$VQ_SLURM_NODE Default=YES MaxTime=INFINITE State=UP
CONF

# died NAME: fail naming the daemon, the last error its log gives, and the log.
died() {
    log=$D/log/$1.log
    why=$(grep -E 'fatal|error|Error' "$log" 2>/dev/null | grep -v -i pmix | tail -n 1 |
        sed 's/^\[[^]]*\] //; s/^.*\(Error\|Notice\): *//')
    fail "$1 did not start${why:+: $why} (log: $log)"
}

# fresh NAME: keep the previous log as NAME.log.old, so died() reads this start's errors.
fresh() { [ ! -f "$D/log/$1.log" ] || mv "$D/log/$1.log" "$D/log/$1.log.old"; }

# started NAME: wait (5 s at most) for NAME's pid file to name a live process.
started() {
    i=0
    until alive "$1"; do
        i=$((i + 1))
        [ $i -le 50 ] || died "$1"
        sleep 0.1
    done
}

if ! alive munged; then
    say "starting munged"
    fresh munged
    munged --key-file="$key" --socket="$MUNGE_SOCKET" --pid-file="$D/run/munged.pid" \
        --log-file="$D/log/munged.log" --seed-file="$D/run/munged.seed" \
        >>"$D/log/munged.log" 2>&1 || died munged
    started munged
fi
if ! alive slurmctld; then
    say "starting slurmctld"
    fresh slurmctld
    # -c: a fresh controller every start; jobs of an earlier cluster mean nothing here.
    slurmctld -c -f "$SLURM_CONF" >>"$D/log/slurmctld.log" 2>&1 || died slurmctld
    started slurmctld
fi
if ! alive slurmd; then
    say "starting slurmd"
    fresh slurmd
    slurmd -f "$SLURM_CONF" -N "$VQ_SLURM_NODE" >>"$D/log/slurmd.log" 2>&1 || died slurmd
    started slurmd
fi

i=0
while :; do
    # A daemon can write its pid file and then die (a port in use is found after forking).
    for name in munged slurmctld slurmd; do alive $name || died $name; done
    state=$(sinfo -h -n "$VQ_SLURM_NODE" -o %T 2>/dev/null || true)
    case $state in idle | mixed | allocated) break ;; esac
    i=$((i + 1))
    [ $i -le $((timeout * 2)) ] || fail "node $VQ_SLURM_NODE is '${state:-not answering}'," \
        "not idle, after $timeout s (logs: $D/log/slurmctld.log, $D/log/slurmd.log)"
    sleep 0.5
done
say "up: node $VQ_SLURM_NODE, $topology RealMemory=$mem_mib ($D)"
echo "export SLURM_CONF=$SLURM_CONF"
