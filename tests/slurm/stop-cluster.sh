#!/usr/bin/env bash
# Stops the test cluster that start-cluster.sh started in STATE_DIR (default: $MASKING_SLURM_STATE or
# /tmp/masking-slurm): cancels its jobs, then stops slurmd, slurmctld and munged by the pid files in
# STATE_DIR, waiting for each to exit. Never looks processes up by name. Harmless when nothing runs.
#
#   sudo tests/slurm/stop-cluster.sh [STATE_DIR]
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/common.sh"

STATE=$(slurm_state_dir "${1:-}") || exit 1
WAIT_S="${MASKING_SLURM_WAIT:-30}"
export SLURM_CONF="$STATE/slurm.conf"
export PATH="$PATH:/usr/sbin:/sbin"
say() { echo "stop-cluster: $*" >&2; }
status=0

# Jobs first, so that no slurmstepd or job process outlives slurmd.
if pid_of slurmctld "$STATE/run/slurmctld.pid" >/dev/null && [ -f "$SLURM_CONF" ]; then
    jobs=$(squeue -h -o '%A' 2>/dev/null | sort -u | tr '\n' ' ')
    if [ -n "${jobs// /}" ]; then
        say "cancelling jobs: $jobs"
        # shellcheck disable=SC2086
        scancel $jobs 2>/dev/null || true
        for ((i = 0; i < WAIT_S * 2; i++)); do
            [ -z "$(squeue -h -o '%A' 2>/dev/null)" ] && break
            sleep 0.5
        done
        [ -z "$(squeue -h -o '%A' 2>/dev/null)" ] || { say "warning: jobs still listed after ${WAIT_S}s"; status=1; }
    fi
fi

stop() {
    local name="$1" file="$2" pid
    if ! pid=$(pid_of "$name" "$file"); then
        rm -f "$file"
        return 0
    fi
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" "$WAIT_S"; then
        say "warning: $name (pid $pid) still running after ${WAIT_S}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 5 || { say "error: $name (pid $pid) will not exit"; status=1; return; }
    fi
    stopped+=("$pid")
    rm -f "$file"
}
stopped=()
stop slurmd "$STATE/run/slurmd.pid"
stop slurmctld "$STATE/run/slurmctld.pid"
stop munged "$STATE/munge/munged.pid"
for pid in "${stopped[@]}"; do wait_reaped "$pid" 5; done

# Steps that slurmd had started leave a socket in the spool directory while they live.
left=$(find "$STATE/spool" -maxdepth 1 -type s 2>/dev/null | head -n 5)
[ -z "$left" ] || { say "warning: job step sockets remain in $STATE/spool: $left"; }
[ "$status" = 0 ] && say "stopped (state kept in $STATE)"
exit "$status"
