#!/usr/bin/env bash
# Tests start-cluster.sh and stop-cluster.sh against a real one-node Slurm: starts a fresh cluster in its
# own state directory, checks that a second start starts nothing, runs jobs shaped like the grid's stages
# (a job; a 2-task array job with --dependency=afterok on it that reads its lines from a cells file like
# cell.sbatch and must run both tasks at once; a job afterok on the whole array; a failing job whose afterok
# dependent must be cancelled), checks their outputs and final states, and stops the cluster.
#
#   sudo tests/slurm/selftest.sh [STATE_DIR]    (default: $MASKING_SLURM_STATE or /tmp/masking-slurm-selftest)
#
# Exits 0 and prints "selftest: 1 passed, 0 failed" on success; otherwise says what went wrong, keeps the
# state directory (logs in STATE_DIR/log) and exits 1. Its state directory is wiped at the start of every run.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/common.sh"

STATE=$(slurm_state_dir "${1:-${MASKING_SLURM_STATE:-/tmp/masking-slurm-selftest}}") || exit 1
JOB_WAIT_S="${MASKING_SLURM_JOB_WAIT:-90}"
WORK="$STATE/work"
started=$(date +%s)
say() { echo "selftest: $*" >&2; }
pids=()

fail() {
    say "FAILED: $*"
    if [ -n "${SLURM_CONF:-}" ]; then
        { echo "--- squeue:"; squeue 2>&1; echo "--- sinfo:"; sinfo 2>&1; } >&2 || true
    fi
    for log in "$STATE/log/jobcomp.txt" "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" "$STATE/munge/munged.log"; do
        [ -s "$log" ] && { echo "--- last lines of $log:" >&2; grep -v pmix "$log" | tail -n 15 >&2; }
    done
    "$here/stop-cluster.sh" "$STATE" || true
    say "state kept for inspection in $STATE"
    echo "selftest: 0 passed, 1 failed"
    trap - EXIT
    exit 1
}
trap 'fail "interrupted or exited early"' EXIT
trap 'exit 130' INT TERM

# --- a fresh cluster ------------------------------------------------------------------------------------
# Daemons left over from an aborted run are stopped by their pid files, then every trace is removed, so
# stale job state, keys or sockets can never leak into this run.
"$here/stop-cluster.sh" "$STATE" 2>/dev/null || fail "could not stop a cluster left running in $STATE"
rm -rf "$STATE"
t0=$(date +%s)
line=$("$here/start-cluster.sh" "$STATE") || fail "start-cluster.sh failed"
case "$line" in
    "export SLURM_CONF=$STATE/slurm.conf") ;;
    *) fail "start-cluster.sh printed '$line', not 'export SLURM_CONF=$STATE/slurm.conf'" ;;
esac
eval "$line"
say "cluster up in $(($(date +%s) - t0))s"
for name in munge/munged slurmctld slurmd; do
    file="$STATE/run/$name.pid"; [ "$name" = munge/munged ] && file="$STATE/munge/munged.pid"
    pid=$(pid_of "$(basename "$name")" "$file") || fail "$(basename "$name") is not running after start-cluster.sh"
    pids+=("$pid")
done

# Running it again must start nothing new.
"$here/start-cluster.sh" "$STATE" >/dev/null 2>"$STATE/restart.err" || fail "second start-cluster.sh failed: $(cat "$STATE/restart.err")"
i=0
for file in "$STATE/munge/munged.pid" "$STATE/run/slurmctld.pid" "$STATE/run/slurmd.pid"; do
    [ "$(tr -dc 0-9 <"$file")" = "${pids[$i]}" ] || fail "second start-cluster.sh replaced the daemon of $file"
    i=$((i + 1))
done
[ "$(grep -c 'already running' "$STATE/restart.err")" = 3 ] || fail "second start-cluster.sh did not find all three daemons running"

squeue -h >/dev/null || fail "squeue does not answer"
# --- jobs ---------------------------------------------------------------------------------------------
mkdir -p "$WORK"
printf 'cell/a\ncell/b\n' >"$WORK/cells.txt"
cat >"$WORK/cell.sbatch" <<SCRIPT
#!/bin/bash
# Like the grid's cell.sbatch: task i takes line FIRST+i of cells.txt; records when it ran.
set -euo pipefail
FIRST="\$1"
CELL=\$(sed -n "\$((FIRST + SLURM_ARRAY_TASK_ID))p" $WORK/cells.txt)
grep -qx hello $WORK/hello.out || { echo "hello job output missing: afterok did not wait" >&2; exit 2; }
date +%s.%N >$WORK/start.\$SLURM_ARRAY_TASK_ID
echo "task \$SLURM_ARRAY_TASK_ID cell \$CELL cpus \$SLURM_CPUS_PER_TASK"
sleep 3
date +%s.%N >$WORK/end.\$SLURM_ARRAY_TASK_ID
SCRIPT
cd "$WORK" || fail "no $WORK"
hello=$(sbatch --parsable --output="$WORK/hello.out" --wrap 'echo hello') || fail "sbatch of the hello job failed"
array=$(sbatch --parsable --array=0-1 --cpus-per-task=1 --dependency="afterok:$hello" \
    --output="$WORK/array_%A_%a.out" "$WORK/cell.sbatch" 1) || fail "sbatch of the array job failed"
after=$(sbatch --parsable --output="$WORK/after.out" --dependency="afterok:$array" \
    --wrap "test -e $WORK/end.0 && test -e $WORK/end.1 && echo after-array") || fail "sbatch of the job after the array failed"
bad=$(sbatch --parsable --output="$WORK/bad.out" --wrap 'echo failing; exit 3') || fail "sbatch of the failing job failed"
orphan=$(sbatch --parsable --output="$WORK/orphan.out" --dependency="afterok:$bad" --wrap 'echo must-not-run') ||
    fail "sbatch of the dependent of the failing job failed"
say "submitted hello=$hello array=$array (afterok:$hello) after=$after (afterok:$array) bad=$bad orphan=$orphan (afterok:$bad)"

t0=$(date +%s)
while :; do
    # The cluster is new, so every job in the queue is ours. (squeue -j would fail on a purged id.)
    left=$(squeue -h -o '%i %T %r' 2>/dev/null)
    [ -z "$left" ] && break
    [ $(($(date +%s) - t0)) -lt "$JOB_WAIT_S" ] || fail "jobs not finished after ${JOB_WAIT_S}s: $(echo "$left" | tr '\n' ';')"
    sleep 0.5
done
say "all jobs left the queue in $(($(date +%s) - t0))s"

# --- checks ---------------------------------------------------------------------------------------------
comp="$STATE/log/jobcomp.txt"
state_of() { # JOBID [ARRAY_TASK]: "JobState ExitCode" of that job (or array task) in the job completion log
    awk -v id="$1" -v task="${2:-}" '{
        delete f
        for (i = 1; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); f[k] = v }
        if (task == "" ? (f["JobId"] == id && !("ArrayJobId" in f)) : (f["ArrayJobId"] == id && f["ArrayTaskId"] == task))
            print f["JobState"], f["ExitCode"]
    }' "$comp"
}
expect() { [ "$2" = "$3" ] || fail "$1: expected '$3', got '${2:-nothing}' (job completion log $comp)"; }
expect "hello job $hello" "$(state_of "$hello")" "COMPLETED 0:0"
expect "array task ${array}_0" "$(state_of "$array" 0)" "COMPLETED 0:0"
expect "array task ${array}_1" "$(state_of "$array" 1)" "COMPLETED 0:0"
expect "job $after after the array" "$(state_of "$after")" "COMPLETED 0:0"
expect "failing job $bad" "$(state_of "$bad")" "FAILED 3:0"
expect "dependent $orphan of the failing job" "$(state_of "$orphan")" "CANCELLED 0:0"

expect "output of the hello job" "$(cat "$WORK/hello.out" 2>/dev/null)" "hello"
expect "output of array task 0" "$(cat "$WORK/array_${array}_0.out" 2>/dev/null)" "task 0 cell cell/a cpus 1"
expect "output of array task 1" "$(cat "$WORK/array_${array}_1.out" 2>/dev/null)" "task 1 cell cell/b cpus 1"
expect "output of the job after the array" "$(cat "$WORK/after.out" 2>/dev/null)" "after-array"
[ ! -e "$WORK/orphan.out" ] || fail "the dependent of the failing job ran"
# Both one-CPU tasks ran at the same time on the CPUs this machine has.
if [ "$(nproc)" -ge 2 ]; then
    overlap=$(awk -v s0="$(cat "$WORK/start.0")" -v s1="$(cat "$WORK/start.1")" -v e0="$(cat "$WORK/end.0")" -v e1="$(cat "$WORK/end.1")" \
        'BEGIN { s = s0 > s1 ? s0 : s1; e = e0 < e1 ? e0 : e1; print (s < e) ? "yes" : "no" }')
    expect "the two array tasks running at once" "$overlap" yes
fi

# --- stop -----------------------------------------------------------------------------------------------
"$here/stop-cluster.sh" "$STATE" 2>"$STATE/stop.err" || fail "stop-cluster.sh failed: $(cat "$STATE/stop.err")"
for pid in "${pids[@]}"; do
    # Daemons are children of init once they detach; give init a moment to reap the zombie.
    for ((i = 0; i < 50; i++)); do [ -e "/proc/$pid" ] || break; sleep 0.1; done
    [ ! -e "/proc/$pid" ] || [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] ||
        fail "pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) still runs after stop-cluster.sh"
done
"$here/stop-cluster.sh" "$STATE" 2>/dev/null || fail "a second stop-cluster.sh failed"
trap - EXIT
cd / && rm -rf "$STATE"
say "passed in $(($(date +%s) - started))s"
echo "selftest: 1 passed, 0 failed"
