# shellcheck shell=bash disable=SC2034
# Shared by start-cluster.sh, stop-cluster.sh and selftest.sh (sourced, not run).
# Resolves the state directory and the ports, and tells whether a daemon from a pid file is alive.

slurm_state_dir() {
    # $1 (an argument to the script) wins over $MASKING_SLURM_STATE, which wins over the default.
    local dir="${1:-${MASKING_SLURM_STATE:-/tmp/masking-slurm}}"
    case "$dir" in
        /*) ;;
        *) dir="$PWD/$dir" ;;
    esac
    case "$dir" in
        *[[:space:]]* | *'|'* | *'@'*) echo "slurm state directory '$dir': no spaces, '|' or '@' please (slurm.conf cannot quote paths)" >&2; return 1 ;;
    esac
    # No trailing slash, no "//", so that pid file paths compare equal between runs.
    dir=$(realpath -m "$dir")
    [ "$dir" != / ] || { echo "slurm state directory may not be /" >&2; return 1; }
    printf '%s\n' "$dir"
}

# Non-default ports, so that a real Slurm on a laptop (6817/6818) is not in the way.
SLURMCTLD_PORT="${MASKING_SLURM_CTLD_PORT:-16817}"
SLURMD_PORT="${MASKING_SLURM_SLURMD_PORT:-16818}"

# pid_of NAME PIDFILE: prints the pid if PIDFILE names a live process whose command is NAME, else fails.
# (The name is only checked to guard against a recycled pid; nothing is ever found or killed by name.)
pid_of() {
    local name="$1" file="$2" pid comm
    [ -s "$file" ] || return 1
    pid=$(tr -dc '0-9' <"$file")
    [ -n "$pid" ] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [ "$comm" = "$name" ] || return 1
    printf '%s\n' "$pid"
}

# wait_gone PID SECONDS: waits until PID has exited; fails if it is still there after SECONDS.
wait_gone() {
    local pid="$1" tenths=$(($2 * 10)) i
    for ((i = 0; i < tenths; i++)); do
        [ -e "/proc/$pid" ] || return 0
        # A zombie whose parent is gone is reaped by init; one of ours is reaped by `wait` in the caller.
        [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
        sleep 0.1
    done
    [ ! -e "/proc/$pid" ]
}

# wait_reaped PID SECONDS: a daemon that detached is reaped by init, which may take a moment; waits for
# that so that ps shows nothing afterwards. Never fails: a zombie no longer runs.
wait_reaped() {
    local pid="$1" tenths=$(($2 * 10)) i
    for ((i = 0; i < tenths; i++)); do
        [ -e "/proc/$pid" ] || return 0
        sleep 0.1
    done
    return 0
}
