#!/usr/bin/env bash
# Starts a one-node Slurm cluster on the loopback, for trying and testing the grid's Slurm backend.
#
#   sudo tests/slurm/start-cluster.sh [STATE_DIR]      (default: $MASKING_SLURM_STATE or /tmp/masking-slurm)
#   export SLURM_CONF=STATE_DIR/slurm.conf             (the script prints this line last)
#
# Installs slurm-wlm and munge if they are missing, writes a munge key and the configuration into
# STATE_DIR, starts munged (as user munge), slurmctld and slurmd (as root), and waits until the node
# is idle. Running it again while the cluster is up starts nothing twice. Stop with stop-cluster.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/common.sh"

STATE=$(slurm_state_dir "${1:-}")
CLUSTER="${MASKING_SLURM_CLUSTER:-masking}"
PARTITION="${MASKING_SLURM_PARTITION:-debug}"
WAIT_S="${MASKING_SLURM_WAIT:-30}"
CGROUP_PLUGIN="${MASKING_SLURM_CGROUP_PLUGIN:-cgroup/v1}"
CONF="$STATE/slurm.conf"

say() { echo "start-cluster: $*" >&2; }
die() {
    say "error: $*"
    for log in "$STATE/munge/munged.log" "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log"; do
        [ -s "$log" ] && { echo "--- last lines of $log:" >&2; tail -n 15 "$log" >&2; }
    done
    exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (slurmd must be root to start jobs; munged is started as user munge)"

# --- 1. packages -------------------------------------------------------------------------------------
need_install=0
for bin in munged mungekey slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
    command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || need_install=1
done
if [ "$need_install" = 1 ]; then
    say "installing slurm-wlm and munge (apt-get)"
    # Keep the packages' init scripts from starting the system-wide daemons (with /etc configuration)
    # where nothing already says so; ours run with their own configuration below.
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    ok=1
    apt-get update -qq >&2 || ok=0
    [ "$ok" = 0 ] || apt-get install -y -qq --no-install-recommends slurm-wlm munge >&2 || ok=0
    [ "$made_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
    [ "$ok" = 1 ] || die "apt-get could not install slurm-wlm and munge"
fi
export PATH="$PATH:/usr/sbin:/sbin"
getent passwd munge >/dev/null || die "no user munge (the munge package creates it)"

# --- 2. state directory and munge ----------------------------------------------------------------------
mkdir -p "$STATE"/{ctld,spool,log,run,tmp,munge}
chmod 0755 "$STATE" "$STATE/munge"
chown munge:munge "$STATE/munge"
KEY="$STATE/munge/munge.key"
if [ ! -s "$KEY" ]; then
    say "writing a munge key: $KEY"
    rm -f "$KEY"
    mungekey --create --keyfile="$KEY" 2>/dev/null || dd if=/dev/urandom of="$KEY" bs=1024 count=1 status=none
fi
chown munge:munge "$KEY"
chmod 0400 "$KEY"

SOCKET="$STATE/munge/munge.socket.2"
if pid=$(pid_of munged "$STATE/munge/munged.pid"); then
    say "munged is already running (pid $pid)"
else
    say "starting munged"
    rm -f "$STATE/munge/munged.pid" "$SOCKET" "$SOCKET.lock"
    runuser -u munge -- munged --key-file="$KEY" --socket="$SOCKET" --pid-file="$STATE/munge/munged.pid" \
        --log-file="$STATE/munge/munged.log" --seed-file="$STATE/munge/munged.seed" ||
        die "munged did not start"
fi
for ((i = 0; i < WAIT_S * 10; i++)); do
    [ -S "$SOCKET" ] && pid_of munged "$STATE/munge/munged.pid" >/dev/null && break
    sleep 0.1
done
[ -S "$SOCKET" ] || die "munged's socket $SOCKET did not appear within ${WAIT_S}s"
munge --socket="$SOCKET" -n </dev/null | unmunge --socket="$SOCKET" >/dev/null || die "munge/unmunge round trip failed"

# --- 3. configuration ---------------------------------------------------------------------------------
HOST=$(hostname -s)
CPUS=$(nproc)
mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
# A bit below what the machine has: slurmd drains a node that reports less than RealMemory.
MEMORY=$((mem_mb * 95 / 100))
fill() {
    sed -e "s|@CLUSTER@|$CLUSTER|g" -e "s|@HOST@|$HOST|g" -e "s|@STATE@|$STATE|g" \
        -e "s|@CTLD_PORT@|$SLURMCTLD_PORT|g" -e "s|@SLURMD_PORT@|$SLURMD_PORT|g" \
        -e "s|@CPUS@|$CPUS|g" -e "s|@MEMORY@|$MEMORY|g" -e "s|@PARTITION@|$PARTITION|g" \
        -e "s|@CGROUP_PLUGIN@|$CGROUP_PLUGIN|g" "$1"
}
changed=0
for name in slurm.conf cgroup.conf; do
    fill "$here/$name.in" >"$STATE/$name.new"
    if cmp -s "$STATE/$name.new" "$STATE/$name"; then rm -f "$STATE/$name.new"; else mv "$STATE/$name.new" "$STATE/$name"; changed=1; fi
done
chmod 0644 "$STATE/slurm.conf" "$STATE/cgroup.conf"
export SLURM_CONF="$CONF"

# --- 4. slurmctld and slurmd ------------------------------------------------------------------------
running=0
if pid=$(pid_of slurmctld "$STATE/run/slurmctld.pid"); then
    say "slurmctld is already running (pid $pid)"; running=1
else
    say "starting slurmctld"
    slurmctld -f "$CONF" || die "slurmctld did not start"
fi
if pid=$(pid_of slurmd "$STATE/run/slurmd.pid"); then
    say "slurmd is already running (pid $pid)"; running=1
else
    say "starting slurmd"
    slurmd -f "$CONF" || die "slurmd did not start"
fi
[ "$changed" = 0 ] || [ "$running" = 0 ] ||
    say "warning: the configuration changed while daemons were running; stop-cluster.sh and start again to apply it"

# --- 5. wait until the node is idle --------------------------------------------------------------------
state=""
for ((i = 0; i < WAIT_S * 2; i++)); do
    pid_of slurmctld "$STATE/run/slurmctld.pid" >/dev/null || { sleep 0.5; pid_of slurmctld "$STATE/run/slurmctld.pid" >/dev/null || die "slurmctld exited"; }
    pid_of slurmd "$STATE/run/slurmd.pid" >/dev/null || { sleep 0.5; pid_of slurmd "$STATE/run/slurmd.pid" >/dev/null || die "slurmd exited"; }
    state=$(sinfo -h -N -n "$HOST" -o '%T' 2>/dev/null | head -n 1 || true)
    case "$state" in
        idle | mixed | allocated) break ;;
    esac
    sleep 0.5
done
case "$state" in
    idle | mixed | allocated) ;;
    *) die "node $HOST is not idle after ${WAIT_S}s (state: '${state:-no answer from slurmctld}')" ;;
esac
say "cluster '$CLUSTER' is up: node $HOST ($CPUS CPUs, ${MEMORY} MB) is $state in partition $PARTITION; state in $STATE"
echo "export SLURM_CONF=$CONF"
