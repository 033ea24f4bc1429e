# SPDX-License-Identifier: GPL-3.0-or-later
# cluster.sh: a throw-away single-node SLURM cluster on localhost (sourced,
# not run), for tests/slurm/slurm_test.sh.
#
#   cluster_start DIR   munged, slurmctld and slurmd in the foreground under
#                       nohup, each with its own key, socket, config, state,
#                       spool, log and pid paths under DIR; returns once the
#                       node is idle (SLURM_CONF is exported: every client
#                       command reads DIR/slurm.conf, none looks elsewhere)
#   cluster_stop        stops the daemons it started, by their PIDs, and
#                       waits until they are gone
#
# Ports come from the kernel (free ones at start), so that the cluster does
# not meet a real one on 6817/6818. Traffic stays on 127.0.0.1. Needs root
# (slurmd runs jobs as their users) and Debian's slurm-wlm and munge.

cluster_pids=()

# cluster_die MESSAGE: what went wrong, with the daemons' last log lines.
cluster_die() {
    echo "cluster: $*" >&2
    local f
    for f in "$cluster_dir"/log/*.log; do
        [[ -s $f ]] && { echo "--- $f (last lines)" >&2; tail -n 15 "$f" >&2; }
    done
    return 1
}

cluster_start() {
    cluster_dir=$1
    local d=$cluster_dir node
    node=$(hostname -s)
    mkdir -p "$d"/{etc,state,spool,log,run,munge} || return 1
    chmod 700 "$d/munge"
    export SLURM_CONF=$d/etc/slurm.conf
    # Two free ports, from the kernel.
    local ports
    ports=$(/usr/bin/python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])') || cluster_die "cannot find free ports" || return 1
    read -r ctld_port slurmd_port <<<"$ports"
    # Memory for the node: what it has, less a margin (more drains the node).
    local mem
    mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
    cat >"$SLURM_CONF" <<CONF
ClusterName=shoaltest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge/munge.socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
MailProg=/bin/true
ReturnToService=2
SchedulerParameters=sched_interval=1
MinJobAge=600
KillWait=30
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
    # A private munge: its own key and socket.
    dd if=/dev/urandom of="$d/munge/munge.key" bs=1024 count=1 status=none &&
        chmod 400 "$d/munge/munge.key" || cluster_die "cannot write the munge key" || return 1
    nohup munged -F --force --socket="$d/munge/munge.socket" --key-file="$d/munge/munge.key" \
        --pid-file="$d/run/munged.pid" --log-file="$d/log/munged.log" \
        --seed-file="$d/munge/munged.seed" >"$d/log/munged.out" 2>&1 &
    cluster_pids+=($!)
    local i
    for i in $(seq 1 100); do
        [[ -S $d/munge/munge.socket ]] && break
        sleep 0.1
    done
    [[ -S $d/munge/munge.socket ]] || cluster_die "munged did not start" || return 1
    nohup slurmctld -D -f "$SLURM_CONF" >"$d/log/slurmctld.out" 2>&1 &
    cluster_pids+=($!)
    nohup slurmd -D -N "$node" -f "$SLURM_CONF" >"$d/log/slurmd.out" 2>&1 &
    cluster_pids+=($!)
    # Ready when the node is idle.
    local state=
    for i in $(seq 1 150); do
        state=$(sinfo -h -n "$node" -o %T 2>/dev/null)
        [[ $state == idle ]] && return 0
        sleep 0.2
    done
    cluster_die "the node is not idle after 30 s (state: '${state:-none}')"
}

cluster_stop() {
    local pid i
    # slurmd first: it ends the jobs it still runs.
    for ((i = ${#cluster_pids[@]} - 1; i >= 0; i--)); do
        kill -TERM "${cluster_pids[i]}" 2>/dev/null
    done
    for pid in "${cluster_pids[@]}"; do
        for i in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    cluster_pids=()
}

# job_wait ID [SECONDS]: poll until job ID has ended (every 0.2 s, up to
# SECONDS, 180 by default); sets job_state (COMPLETED, FAILED, TIMEOUT,
# CANCELLED...) and job_exit (the exit status of its batch script).
job_wait() {
    local id=$1 limit=${2:-180} info i
    job_state= job_exit=
    for ((i = 0; i < limit * 5; i++)); do
        info=$(scontrol -o show job "$id" 2>/dev/null)
        job_state=$(sed -n 's/.* JobState=\([A-Z_]*\).*/\1/p' <<<"$info")
        # The states a job ends in; any other (PENDING, RUNNING, SIGNALING,
        # COMPLETING...) is on its way.
        case $job_state in
        COMPLETED | FAILED | TIMEOUT | CANCELLED | NODE_FAIL | PREEMPTED | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
            job_exit=$(sed -n 's/.* ExitCode=\([0-9]*\):.*/\1/p' <<<"$info")
            return 0
            ;;
        esac
        sleep 0.2
    done
    return 1
}
