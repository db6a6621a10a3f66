#!/usr/bin/env bash
# Stop the daemons slurm/ci/start-cluster.sh started (their PIDs are in STATE_DIR/pids), newest first,
# and nothing else: a munged that was already running is left alone, and a PID now used by another
# program is not touched. Cancels the cluster's jobs first and waits for them to end, and removes the
# link to the cluster's config from /etc/slurm/slurm.conf.
set -uo pipefail

STATE=$(realpath -m "${1:-/tmp/noisyactions-slurm}")
SYSTEM_CONF=/etc/slurm/slurm.conf
say() { echo "stop-cluster: $*" >&2; }
[ -s "$STATE/pids" ] || { say "no $STATE/pids: nothing to stop"; exit 0; }
export SLURM_CONF=$STATE/etc/slurm.conf

running() { [ "$(cat "/proc/$2/comm" 2>/dev/null)" = "$1" ]; }  # name pid: that daemon, not a reused PID
gone_within() {  # name pid tenths-of-a-second
    for _ in $(seq "$3"); do running "$1" "$2" || return 0; sleep 0.1; done
    ! running "$1" "$2"
}
if running slurmctld "$(awk '$1 == "slurmctld" { print $2 }' "$STATE/pids")"; then
    squeue --noheader --format=%i | xargs -r scancel
    for _ in $(seq 300); do [ -z "$(squeue --noheader --format=%i 2>/dev/null)" ] && break; sleep 0.1; done
fi
left=()
while read -r name pid; do
    running "$name" "$pid" || continue
    kill -TERM "$pid"
    if ! gone_within "$name" "$pid" 100; then
        say "$name ($pid) ignored SIGTERM for 10 s: killing it"
        kill -KILL "$pid"
        gone_within "$name" "$pid" 50 || { left+=("$name $pid"); continue; }
    fi
    say "stopped $name ($pid)"
done < <(tac "$STATE/pids")
if [ "$(readlink "$SYSTEM_CONF")" = "$SLURM_CONF" ]; then rm "$SYSTEM_CONF"; fi
if [ ${#left[@]} -gt 0 ]; then
    say "still running: ${left[*]}"
    exit 1
fi
: >"$STATE/pids"
