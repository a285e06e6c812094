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
#   start   starts what is not running and waits (at most SLURM_LOCAL_WAIT seconds, default 60, per
#           step) until munge answers, slurmctld answers and the node is idle;
#   stop    stops slurmd, slurmctld and munged and waits until they have exited (SIGKILL after the
#           same bound), so that a start right after it starts fresh daemons;
#   status  each daemon's processes (a live one is reported even when its pid file is missing) and
#           sinfo; exits 1 unless everything runs and answers.
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

# Every wait is bounded: seconds to wait for a daemon to answer or to exit.
WAIT=${SLURM_LOCAL_WAIT:-60}

# The pid in a pid file, if that process is alive and is the named program.
pid_of() { # NAME PIDFILE
  local pid
  [ -f "$2" ] || return 1
  pid=$(cat "$2" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] \
    && echo "$pid"
}

# Every live process of the named program: the one in its pid file and any without one (a daemon
# whose pid file an earlier instance removed on its way out).
pids_of() { # NAME PIDFILE
  { pid_of "$1" "$2" || true; pgrep -x "$1" || true; } | sort -un
}

# Run a command at most $1 seconds (a daemon that does not answer must not hang the script).
bounded() { local s=$1; shift; timeout "$s" "$@"; }

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key
    else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
  fi
  chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
  if [ -z "$(pids_of munged /run/munge/munged.pid)" ]; then
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
  fi
  local t0=$SECONDS
  until bounded 5 munge -n 2>/dev/null | bounded 5 unmunge >/dev/null 2>&1; do
    [ $((SECONDS - t0)) -lt "$WAIT" ] \
      || die "munge does not answer after ${WAIT}s (see /var/log/munge/munged.log)"
    sleep 1
  done
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
  local host t0 state
  host=$(hostname -s)
  [ -n "$(pids_of slurmctld "$BASE/slurmctld.pid")" ] || slurmctld
  t0=$SECONDS
  until bounded 5 scontrol ping 2>/dev/null | grep -q 'is UP'; do
    [ $((SECONDS - t0)) -lt "$WAIT" ] \
      || die "slurmctld does not answer after ${WAIT}s; see $BASE/log/slurmctld.log"
    sleep 1
  done
  [ -n "$(pids_of slurmd "$BASE/slurmd.pid")" ] || slurmd
  t0=$SECONDS
  while [ $((SECONDS - t0)) -lt "$WAIT" ]; do
    state=$(bounded 5 sinfo -h -n "$host" -o %t 2>/dev/null || true)
    case "$state" in
      idle*|mix*|alloc*) bounded 5 sinfo; echo "Slurm is up on $host ($((SECONDS - t0))s)"; return 0 ;;
      down*|drain*) bounded 5 scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
    esac
    sleep 1
  done
  bounded 5 sinfo || true
  die "the node did not become idle in ${WAIT}s; see $BASE/log/slurmctld.log and $BASE/log/slurmd.log"
}

# Stop one daemon and wait until every process of it has exited: SIGTERM, then SIGKILL after $WAIT
# seconds. Only then may a new one start (an old slurmd still holding its port, or removing the pid
# file of the new one on its way out, is what makes a quick restart hang or `status` lie).
stop_one() { # NAME PIDFILE
  local pids t0
  pids=$(pids_of "$1" "$2")
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086 # a list of pids
  kill $pids 2>/dev/null || true
  t0=$SECONDS
  while [ -n "$(pids_of "$1" "$2")" ]; do
    if [ $((SECONDS - t0)) -ge "$WAIT" ]; then
      pids=$(pids_of "$1" "$2")
      echo "$1 ($pids) did not exit in ${WAIT}s: killing it"
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
      sleep 1
      [ -z "$(pids_of "$1" "$2")" ] || die "$1 ($pids) is still running"
      break
    fi
    sleep 0.2
  done
  rm -f "$2"
  echo "stopped $1 ($(echo $pids | tr ' ' ,), $((SECONDS - t0))s)"
}

stop() {
  stop_one slurmd "$BASE/slurmd.pid"
  stop_one slurmctld "$BASE/slurmctld.pid"
  stop_one munged /run/munge/munged.pid
}

status() {
  local rc=0 d f pids pf others
  for d in slurmctld:"$BASE/slurmctld.pid" slurmd:"$BASE/slurmd.pid" munged:/run/munge/munged.pid; do
    f=${d#*:}; d=${d%%:*}
    pids=$(pids_of "$d" "$f")
    pf=$(pid_of "$d" "$f" || true)
    others=$(echo "$pids" | grep -vx "${pf:-none}" | tr '\n' ' ' | sed 's/ $//' || true)
    if [ -z "$pids" ]; then echo "$d: not running"; rc=1
    elif [ -n "$pf" ]; then echo "$d: running (pid $pf${others:+; also $others, starting or exiting})"
    else echo "$d: running (pid $others; $f does not name it)"
    fi
  done
  bounded 5 sinfo 2>/dev/null || { echo "sinfo: no answer from slurmctld"; rc=1; }
  return $rc
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: $0 start|stop|status" ;;
esac
