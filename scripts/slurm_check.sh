#!/usr/bin/env bash
# The failure and resubmission paths of examples/slurm/embed.sbatch on a running Slurm cluster (e.g.
# scripts/slurm_local.sh start): a 4-task array in which task 2 fails once, the merge after it
# (afterany) naming the missing shard, the naive resubmission `sbatch --array=2` refusing before it
# computes, the resubmission with DANNSCOPE_SHARD_COUNT=4, and a merge byte-identical to one process.
# Prints the commands, squeue/sacct lines and messages; exits 1 at the first step that differs.
#
# Usage: scripts/slurm_check.sh [DANNSCOPE_BINARY]   (default: target/debug/dannscope)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-target/debug/dannscope}")
[ -x "$BIN" ] || { echo "slurm_check.sh: $BIN not found (cargo build)" >&2; exit 1; }
SBATCH=$(realpath examples/slurm/embed.sbatch)
FIX=$(realpath tests/fixtures)
WORK=$(mktemp -d /var/tmp/dannscope-slurm-check.XXXXXX)
cd "$WORK"
fail() { echo "FAILED: $*" >&2; echo "(files kept in $WORK)" >&2; exit 1; }
say() { echo; echo "\$ $*"; }

# A dannscope whose array task 2 fails the first time (a node lost mid-run).
cat > flaky <<FLAKY
#!/bin/sh
if [ "\${SLURM_ARRAY_TASK_ID:-}" = 2 ] && [ ! -e $WORK/failed-once ]; then
  touch $WORK/failed-once; echo "task 2: simulated node failure" >&2; exit 1
fi
exec $BIN "\$@"
FLAKY
chmod +x flaky
export DANNSCOPE=$WORK/flaky MODEL=$FIX/models/tiny.onnx DATA=$FIX/data OUT=$WORK/out SPLIT=all
export COMMON_ARGS="--engine tract --batch-size 3"

# Wait (bounded) until the jobs given have left the queue.
wait_jobs() {
  local t0=$SECONDS
  while squeue -h -j "$(echo "$@" | tr ' ' ,)" 2>/dev/null | grep -q .; do
    [ $((SECONDS - t0)) -lt 300 ] || fail "jobs $* still queued after 300 s"
    sleep 1
  done
}
# The job records of the jobs given, array tasks included (jobcomp/filetxt of slurm_local.sh, else
# sacct).
acct() {
  local f=${SLURM_LOCAL_DIR:-/var/tmp/dannscope-slurm}/log/jobcomp.txt ids
  ids=" $* "
  if [ -r "$f" ]; then
    awk -v ids="$ids" '{
      delete k; for (i = 1; i <= NF; i++) { split($i, kv, "="); k[kv[1]] = substr($i, length(kv[1]) + 2) }
      j = (k["ArrayJobId"] != "" && k["ArrayJobId"] != "0") ? k["ArrayJobId"] : k["JobId"]
      if (index(ids, " " j " ")) {
        t = (k["ArrayTaskId"] != "" && k["ArrayTaskId"] != "4294967294") ? j "_" k["ArrayTaskId"] : j
        printf "%-8s %-16s %-10s ExitCode=%-5s %s..%s\n", t, k["Name"], k["JobState"], k["ExitCode"], k["StartTime"], k["EndTime"]
      }
    }' "$f" | sort -V
  else
    sacct -j "$(echo "$@" | tr ' ' ,)" -o JobID,JobName,State,ExitCode || true
  fi
}

say "jid=\$(sbatch --parsable --array=0-3 $SBATCH)"
jid=$(sbatch --parsable --array=0-3 "$SBATCH")
# The merge is submitted held and released once every task has left the queue: a one-node cluster
# under load has been seen to start an afterany job while an array task had not yet started, and
# this check is about what the merge says of a failed task, not about the scheduler's timing. The
# afterany dependency stays: with afterok the released merge would never run.
say "sbatch --parsable --hold --dependency=afterany:$jid --output=merge-%j.out $SBATCH"
mid=$(sbatch --parsable --hold --dependency=afterany:"$jid" --output=merge-%j.out "$SBATCH")
say squeue; squeue -o '%.12i %.16j %.9T %.20R' || true
wait_jobs "$jid"
say "scontrol release $mid"; scontrol release "$mid"
wait_jobs "$mid"
say "sacct (job records)"; acct "$jid" "$mid"
echo; echo "--- merge-$mid.out"; cat "merge-$mid.out"
grep -q "shard 2/4 is not finished" "merge-$mid.out" || fail "the merge does not name shard 2/4"
grep -q -- "--shard 2/4" "merge-$mid.out" || fail "the merge gives no command for shard 2/4"
grep -q "DANNSCOPE_SHARD_COUNT=4 sbatch --array=2" "merge-$mid.out" || fail "no sbatch line"

say "jid2=\$(sbatch --parsable --array=2 $SBATCH)   # without the plan's count"
jid2=$(sbatch --parsable --array=2 "$SBATCH")
wait_jobs "$jid2"
say "sacct"; acct "$jid2"
log=$(ls dannscope-dannscope-embed-"$jid2"_2.out)
echo "--- $log"; cat "$log"
grep -q "this task is shard 0/1" "$log" || fail "the one-task array was not refused"
[ ! -e out/embeddings/tiny/all/shards/0-of-1 ] || fail "the refused task wrote shards/0-of-1"

say "jid3=\$(DANNSCOPE_SHARD_COUNT=4 sbatch --parsable --array=2 $SBATCH)"
jid3=$(DANNSCOPE_SHARD_COUNT=4 sbatch --parsable --array=2 "$SBATCH")
say "sbatch --parsable --hold --dependency=afterany:$jid3 --output=merge-%j.out $SBATCH"
mid3=$(sbatch --parsable --hold --dependency=afterany:"$jid3" --output=merge-%j.out "$SBATCH")
say squeue; squeue -o '%.12i %.16j %.9T %.20R' || true
wait_jobs "$jid3"
say "scontrol release $mid3"; scontrol release "$mid3"
wait_jobs "$mid3"
say "sacct"; acct "$jid3" "$mid3"
echo "--- dannscope-dannscope-embed-${jid3}_2.out"; cat "dannscope-dannscope-embed-${jid3}_2.out"
echo "--- merge-$mid3.out"; cat "merge-$mid3.out"
grep -q "merged 4 of 4 shards" "merge-$mid3.out" || fail "the merge after the resubmission failed"

"$BIN" -q embed --model "$MODEL" --data "$DATA" --out single --split all $COMMON_ARGS >/dev/null
for f in single/embeddings/tiny/all/*.npz single/embeddings/tiny/all/*.json; do
  cmp -s "$f" "out/embeddings/tiny/all/$(basename "$f")" || fail "$(basename "$f") differs from one process"
done
echo; echo "merged files byte-identical to one process; all steps as expected"
rm -rf "$WORK"
