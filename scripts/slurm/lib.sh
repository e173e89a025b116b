# shellcheck shell=sh disable=SC2034
# Sourced by the scripts beside it: where the private single-node Slurm lives, and whether it
# is up. Everything (config, munge key and socket, state, spool, logs, pid files) is under one
# folder, and the ports are not Slurm's defaults (6817/6818), so a system Slurm or munge on the
# same machine is never touched.
VQ_SLURM_DIR=${VQ_SLURM_DIR:-/tmp/vq-slurm}
VQ_SLURM_PORT=${VQ_SLURM_PORT:-6917} # slurmctld; slurmd gets the next one
SLURM_CONF=$VQ_SLURM_DIR/etc/slurm.conf
export SLURM_CONF
MUNGE_SOCKET=$VQ_SLURM_DIR/run/munge.socket

# The node is named after the host, since slurmctld only runs where SlurmctldHost names this
# host's short name.
VQ_SLURM_NODE=$(hostname -s 2>/dev/null || true)
VQ_SLURM_NODE=${VQ_SLURM_NODE:-localhost}

# running PID NAME: process PID is NAME and has not exited. An exited daemon can linger as a
# zombie here (a container's init may reap late), so the state letter is checked too.
running() {
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    case $stat in "$1 ($2) "[!ZX]*) return 0 ;; esac
    return 1
}

# alive NAME: the daemon whose pid file is $VQ_SLURM_DIR/run/NAME.pid is running (a stale pid
# file whose number was reused by another program does not count).
alive() {
    pid=$(cat "$VQ_SLURM_DIR/run/$1.pid" 2>/dev/null) || return 1
    [ -n "$pid" ] && running "$pid" "$1"
}

# up: all three daemons run and the controller answers.
up() {
    alive munged && alive slurmctld && alive slurmd &&
        sinfo -h -o %T >/dev/null 2>&1
}
