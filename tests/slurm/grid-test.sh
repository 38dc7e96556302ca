#!/usr/bin/env bash
# The smoke grid on a real one-node Slurm (start-cluster.sh) gives the local backend's results, a cell that
# fails under Slurm is reported with its job id and logs, and submit.sh run again submits only what is left.
#
#   bash tests/slurm/grid-test.sh [MASKING_EXECUTABLE]     (root; installs slurm-wlm and munge when missing)
#
# Prints "slurm grid: ok" and exits 0, or says what differed and exits 1. Needs the built masking executable.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
masking="${1:-$root/src/Experiments/bin/Release/net10.0/linux-x64/masking}"
[ -x "$masking" ] || { echo "slurm grid: no masking executable at $masking (build first)" >&2; exit 1; }
work=$(mktemp -d /tmp/masking-slurm-grid.XXXXXX)
# munged runs as user munge and keeps its socket under the state directory: it must be able to get there.
chmod 0755 "$work"
state="$work/cluster"
wait_s="${MASKING_SLURM_GRID_WAIT:-900}"

keep=0
fail() {
    keep=1
    echo "slurm grid: FAILED: $*" >&2
    echo "slurm grid: the runs and logs are kept in $work" >&2
    for f in "$state/log/slurmctld.log" "$state/log/slurmd.log"; do
        [ -s "$f" ] && { echo "--- last lines of $f" >&2; tail -n 10 "$f" >&2; }
    done
    exit 1
}
cleanup() {
    bash "$here/stop-cluster.sh" "$state" >/dev/null 2>&1 || true
    [ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

# Waits, bounded, until no job is left in the queue (dependents of a failed stage are cancelled by
# kill_invalid_depend, so a failure drains the queue too).
drain() {
    local start=$SECONDS
    while [ -n "$(squeue -h -o %i 2>/dev/null)" ]; do
        [ $((SECONDS - start)) -lt "$wait_s" ] || { squeue >&2 || true; fail "jobs still queued after ${wait_s}s"; }
        sleep 2
    done
}

cluster_env=$(bash "$here/start-cluster.sh" "$state") || fail "the test cluster did not start"
eval "$cluster_env"
export PATH="$PATH:/usr/sbin:/sbin"

echo "slurm grid: the smoke grid with the local backend"
"$masking" run --preset smoke --out "$work/local" >"$work/local.log" 2>&1 || { tail -n 20 "$work/local.log" >&2; fail "the local run failed"; }

echo "slurm grid: submitted to Slurm with every cell after pre-training killed at step 10"
MASKING_KILL_AT_STEP=10 "$masking" grid --config "$root/configs/smoke.json" --out "$work/slurm" --backend slurm >"$work/submit1.log" 2>&1 ||
    { cat "$work/submit1.log" >&2; fail "the first submission failed"; }
drain
[ -f "$work/slurm/pretrain/final.json" ] || fail "pre-training did not finish under Slurm"
[ -s "$work/slurm/slurm/failed.tsv" ] || fail "no failed cell was recorded in slurm/failed.tsv"
"$masking" grid report --out "$work/slurm" >"$work/report1.md" 2>"$work/report1.log" || fail "grid report failed after the failures"
grep -q "failed in Slurm job [0-9]*_[0-9]* (exit 137); logs: $work/slurm/logs/" "$work/report1.log" ||
    { cat "$work/report1.log" >&2; fail "the report does not name a failed cell with its job id and log"; }
grep -q "## Failed cells" "$work/report1.md" || fail "report.md has no failed-cells section"

echo "slurm grid: submit.sh again (pre-training is finished and must not be submitted again)"
bash "$work/slurm/slurm/submit.sh" >"$work/submit2.log" 2>&1 || { cat "$work/submit2.log" >&2; fail "re-running submit.sh failed"; }
if grep -q "cells 1-1 of cells.txt" "$work/submit2.log"; then cat "$work/submit2.log" >&2; fail "the finished pre-training was submitted again"; fi
drain
[ ! -s "$work/slurm/slurm/failed.tsv" ] || { cat "$work/slurm/slurm/failed.tsv" >&2; fail "cells failed on the second submission"; }
if ! diff <(sort "$work/local/results.jsonl") <(sort "$work/slurm/results.jsonl") >"$work/diff.txt"; then
    head -c 2000 "$work/diff.txt" >&2
    fail "results.jsonl differs between the local and the Slurm backend"
fi
lines=$(wc -l <"$work/slurm/results.jsonl")

echo "slurm grid: submit.sh a third time: everything is finished, nothing is submitted"
bash "$work/slurm/slurm/submit.sh" >"$work/submit3.log" 2>&1 || fail "the third submit.sh failed"
if grep -q "submitted job" "$work/submit3.log"; then cat "$work/submit3.log" >&2; fail "finished cells were submitted again"; fi
"$masking" grid report --out "$work/slurm" >/dev/null 2>&1 || fail "grid report failed on the finished grid"
echo "slurm grid: ok ($lines results, the same lines as the local backend's)"
