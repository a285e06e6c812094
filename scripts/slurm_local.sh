#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for trying `dannscope embed --shard auto` array jobs
# (see examples/slurm/embed.sbatch). It installs nothing: it needs Debian's packages
#     apt-get install slurm-wlm munge
# and root. It writes /etc/slurm/slurm.conf (a minimal configuration for this host: its name, CPUs
# and memory as `slurmd -C` reports them; one partition "local"; no accounting database, job records
# in a text file so that `sacct -c` works), starts munged, slurmctld and slurmd, and waits until the
# node takes jobs. State and logs live under $SLURM_LOCAL_DIR (default /var/tmp/dannscope-slurm).
#
# Usage: scripts/slurm_local.sh start | stop | status
set -euo pipefail

BASE=${SLURM_LOCAL_DIR:-/var/tmp/dannscope-slurm}
CONF=/etc/slurm/slurm.conf
MARK="# written by dannscope scripts/slurm_local.sh"

die() { echo "slurm_local.sh: $*" >&2; exit 1; }

need() {
  [ "$(id -u)" = 0 ] || die "run as root (it starts the Slurm and munge daemons)"
  for c in munged slurmctld slurmd sbatch sinfo scontrol; do
    command -v "$c" >/dev/null || die "$c not found: apt-get install slurm-wlm munge"
  done
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key
    else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
  fi
  chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
  if ! pid_alive /run/munge/munged.pid; then
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
  fi
  munge -n | unmunge >/dev/null || die "munge does not work (see /var/log/munge/munged.log)"
}

write_conf() {
  if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    die "$CONF exists and was not written by this script; move it away first"
  fi
  install -d -m 0755 "$BASE" "$BASE/state" "$BASE/spool" "$BASE/log" /etc/slurm
  # The node line as slurmd sees this host (NodeName, CPUs, sockets, cores, threads, RealMemory).
  local node host
  node=$(slurmd -C | head -n 1)
  host=$(hostname -s)
  cat > "$CONF" <<CONF
$MARK
ClusterName=dannscope
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$BASE/state
SlurmdSpoolDir=$BASE/spool
SlurmctldPidFile=$BASE/slurmctld.pid
SlurmdPidFile=$BASE/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
# No cgroups (containers often have none): plain process tracking, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
# No accounting database: finished jobs go to a text file, read with sacct -c.
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$BASE/log/jobcomp.txt
MaxArraySize=1001
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  echo "wrote $CONF:"; grep -v '^#' "$CONF" | sed 's/^/  /'
}

start() {
  need
  start_munge
  write_conf
  pid_alive "$BASE/slurmctld.pid" || slurmctld
  pid_alive "$BASE/slurmd.pid" || slurmd
  local host; host=$(hostname -s)
  for _ in $(seq 1 60); do
    state=$(sinfo -h -n "$host" -o %t 2>/dev/null || true)
    case "$state" in
      idle*|mix*|alloc*) sinfo; echo "Slurm is up on $host"; return 0 ;;
      down*|drain*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
    esac
    sleep 1
  done
  sinfo || true
  die "the node did not become idle; see $BASE/log/slurmctld.log and $BASE/log/slurmd.log"
}

stop() {
  for d in slurmd slurmctld; do
    if pid_alive "$BASE/$d.pid"; then kill "$(cat "$BASE/$d.pid")"; echo "stopped $d"; fi
  done
  if pid_alive /run/munge/munged.pid; then kill "$(cat /run/munge/munged.pid)"; echo "stopped munged"; fi
}

status() {
  for p in "$BASE/slurmctld.pid" "$BASE/slurmd.pid" /run/munge/munged.pid; do
    if pid_alive "$p"; then echo "running: $p ($(cat "$p"))"; else echo "not running: $p"; fi
  done
  sinfo 2>/dev/null || true
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: $0 start|stop|status" ;;
esac
