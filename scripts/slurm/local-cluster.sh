#!/usr/bin/env bash
# Bring up a one-node Slurm cluster on this machine, for the Slurm test
# (scripts/slurm/test.sh) and for trying the job arrays of README.md
# ("Running on a cluster") without a cluster.
#
# Run as root. Idempotent: installs Debian's `slurm-wlm` and `munge` only
# when they are missing, writes a munge key and /etc/slurm/slurm.conf only
# when absent (an existing slurm.conf is used as it is), starts `munged`,
# `slurmctld` and `slurmd` only when they are not running, and returns at
# once when the node already answers. The node is this host (`hostname
# -s`, reached at 127.0.0.1 whether or not its name resolves) with all its
# CPUs, in one partition `local`; no accounting, no cgroups
# (proctrack/linuxproc, task/none), so it also runs in containers.
# The daemons keep running after the script; their logs are in
# /var/log/slurm/.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "local-cluster.sh: run as root (it installs packages and starts daemons)" >&2
    exit 2
fi

host=$(hostname -s)

node_state() {
    sinfo --noheader --nodes="$host" --format=%T 2>/dev/null | head -n 1
}

ready() {
    case "$(node_state)" in
        idle* | mixed* | allocated* | completing*) return 0 ;;
        *) return 1 ;;
    esac
}

if command -v sinfo >/dev/null && ready; then
    echo "slurm: node $host is up ($(node_state))"
    exit 0
fi

missing=()
command -v slurmctld >/dev/null || missing+=(slurm-wlm)
command -v munged >/dev/null || missing+=(munge)
if [ ${#missing[@]} -gt 0 ]; then
    echo "slurm: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# munge: a key readable by the munge user only, then the daemon as that user.
if [ ! -s /etc/munge/munge.key ]; then
    install -d -o munge -g munge -m 700 /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key
install -d -o munge -g munge -m 755 /run/munge
install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.1
    done
    munge -n | unmunge >/dev/null
fi

conf=/etc/slurm/slurm.conf
if [ ! -e "$conf" ]; then
    cpus=$(nproc)
    # A little below the machine's memory: slurmd drains a node that has
    # less than it is configured with.
    memory=$(free -m | awk '/^Mem:/ { m = int($2 * 0.9); print (m > 1 ? m : 1) }')
    install -d /etc/slurm
    cat >"$conf" <<CONF
# A one-node cluster for testing, written by scripts/slurm/local-cluster.sh.
ClusterName=local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    echo "slurm: wrote $conf (node $host, $cpus CPUs, ${memory} MB)"
fi
install -d /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm

if ! scontrol ping 2>/dev/null | grep -q "is UP"; then
    slurmctld
fi
if ! pgrep -x slurmd >/dev/null; then
    slurmd
fi

for _ in $(seq 120); do
    ready && break
    case "$(node_state)" in
        down* | drain*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.5
done
if ! ready; then
    echo "slurm: node $host did not become ready (state: $(node_state)); see /var/log/slurm/" >&2
    exit 1
fi
echo "slurm: node $host is up ($(node_state))"
