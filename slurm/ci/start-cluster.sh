#!/usr/bin/env bash
# Start a real single-node SLURM cluster on this machine, with accounting (slurmdbd + MariaDB, so sacct
# works), to try `snakemake --profile slurm` on a laptop or in CI. Needs root and Debian's packages:
#   apt-get install munge slurmctld slurmd slurm-client slurmdbd mariadb-server
# Usage:  eval "$(sudo slurm/ci/start-cluster.sh [STATE_DIR])"   # prints `export SLURM_CONF=...`
#         sudo slurm/ci/stop-cluster.sh [STATE_DIR]               # stops every daemon this started, by PID
#         slurm/ci/start-cluster.sh --check                        # what is missing to start one here
#
# Everything lives in STATE_DIR (default /tmp/noisyactions-slurm): configs, spool, logs, the database and
# the PIDs of the daemons it started. A munged already answering on this machine is used, not replaced.
# The node is declared with the shape of a GPU node (NODE_GPUS GPUs, NODE_MEMORY_MB of memory;
# SlurmdParameters=config_overrides) so that the profile's GPU jobs are submitted exactly as they would be
# on a cluster: the GPUs are names to schedule against, the jobs themselves run on this machine's CPUs.
set -euo pipefail

HERE=$(dirname "$(realpath "$0")")
NODE_GPUS=${NODE_GPUS:-1}
NODE_MEMORY_MB=${NODE_MEMORY_MB:-131072}
CLUSTER=${CLUSTER_NAME:-noisyactions}
SYSTEM_CONF=/etc/slurm/slurm.conf
HOST=$(hostname -s)  # slurmd registers under the short name
COMMANDS=(munged munge unmunge setpriv mariadbd mariadb-install-db mariadb slurmdbd slurmctld slurmd sacctmgr scontrol sinfo sbatch squeue sacct scancel)
say() { echo "start-cluster: $*" >&2; }
fail() { say "$*"; exit 1; }

# --- everything that can stop the start is checked before anything starts ---------------------------------
problems=()
[ "$(id -u)" = 0 ] || problems+=("needs root (slurmd starts jobs as their users)")
for command in "${COMMANDS[@]}"; do
    command -v "$command" >/dev/null || problems+=("$command not found: apt-get install munge slurmctld slurmd slurm-client slurmdbd mariadb-server")
done
if [ -e "$SYSTEM_CONF" ] && ! grep -q "^# Written by slurm/ci/start-cluster.sh" "$SYSTEM_CONF"; then
    problems+=("$SYSTEM_CONF exists and is not ours: this machine has its own SLURM; use that")
fi
if [ "${1:-}" = "--check" ]; then
    [ ${#problems[@]} = 0 ] || printf '%s\n' "${problems[@]}"
    exit $(( ${#problems[@]} > 0 ))
fi
[ ${#problems[@]} = 0 ] || fail "${problems[*]}"
STATE=$(realpath -m "${1:-/tmp/noisyactions-slurm}")
if [ -s "$STATE/pids" ]; then
    fail "$STATE/pids exists: a cluster from this folder may be running; stop it first (slurm/ci/stop-cluster.sh $STATE)"
fi
started=$(date +%s.%N)
mkdir -p "$STATE"/{etc,ctld,spool,log,run}
: >"$STATE/pids"
# a start that fails half-way stops what it started
trap 'status=$?; if [ $status != 0 ]; then say "failed: stopping what was started"; "$HERE/stop-cluster.sh" "$STATE" >&2; fi' EXIT

remember() { echo "$1 $2" >>"$STATE/pids"; }  # name pid
wait_for() {  # description, seconds, command...
    local what=$1 deadline=$((SECONDS + $2)); shift 2
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || fail "$what did not come up within the time allowed (logs in $STATE/log)"
        sleep 0.1
    done
}
# four distinct free ports, all bound at once so none is handed out twice
read -r DB_PORT DBD_PORT CTLD_PORT SLURMD_PORT < <(python3 -c '
import socket
probes = [socket.socket() for _ in range(4)]
for probe in probes:
    probe.bind(("127.0.0.1", 0))
print(*(probe.getsockname()[1] for probe in probes))')

# --- munge: authentication between the daemons and the client commands ---------------------------------
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "munged already running: using it"
else
    mkdir -p /run/munge && chown munge:munge /run/munge
    setpriv --reuid=munge --regid=munge --init-groups munged --foreground >"$STATE/log/munged.log" 2>&1 &
    remember munged $!
    wait_for munged 10 bash -c 'munge -n | unmunge'
fi

# --- MariaDB for slurmdbd: a private database on a free local port -------------------------------------
if [ ! -d "$STATE/mysql/mysql" ]; then
    mariadb-install-db --no-defaults --user=root --datadir="$STATE/mysql" --auth-root-authentication-method=normal >"$STATE/log/mariadb-install.log" 2>&1 \
        || fail "mariadb-install-db failed: $STATE/log/mariadb-install.log"
fi
mariadbd --no-defaults --user=root --datadir="$STATE/mysql" --socket="$STATE/run/mysqld.sock" --pid-file="$STATE/run/mysqld.pid" \
    --bind-address=127.0.0.1 --port="$DB_PORT" --log-error="$STATE/log/mariadb.log" >>"$STATE/log/mariadb.out" 2>&1 &
remember mariadbd $!
wait_for mariadb 30 mariadb --no-defaults --socket="$STATE/run/mysqld.sock" -uroot -e 'SELECT 1'

# --- SLURM configuration ---------------------------------------------------------------------------------
CPUS=$(nproc)
cat >"$STATE/etc/slurm.conf" <<EOF
# Written by slurm/ci/start-cluster.sh: one node that is controller, compute node and accounting host.
ClusterName=$CLUSTER
SlurmctldHost=$HOST
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
MpiDefault=none
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=$HOST
AccountingStoragePort=$DBD_PORT
# sacct shows each job's GPUs and its comment (the plugin puts the rule and wildcards there)
AccountingStorageTRES=gres/gpu
AccountingStoreFlags=job_comment
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
ReturnToService=2
SlurmdParameters=config_overrides
# finished jobs stay visible to squeue for 5 minutes (SLURM's default, said here because the profile's
# status checks read squeue and need at least 2)
MinJobAge=300
# a requeued job waits for its credential to expire before it starts again: 10 s instead of 120
AuthInfo=cred_expire=10
NodeName=$HOST CPUs=$CPUS RealMemory=$NODE_MEMORY_MB Gres=gpu:$NODE_GPUS State=UNKNOWN
PartitionName=main Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
# GPUs need device files: /dev/null stands in for each (nothing opens it; jobs see no CUDA device)
for gpu in $(seq "$NODE_GPUS"); do echo "NodeName=$HOST Name=gpu File=/dev/null"; done >"$STATE/etc/gres.conf"
cat >"$STATE/etc/slurmdbd.conf" <<EOF
DbdHost=$HOST
DbdPort=$DBD_PORT
SlurmUser=root
AuthType=auth/munge
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=root
StorageLoc=slurm_acct_db
PidFile=$STATE/run/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
EOF
chmod 600 "$STATE/etc/slurmdbd.conf"
export SLURM_CONF=$STATE/etc/slurm.conf
# Inside a job the slurm plugin's jobstep drops every SLURM_* variable but the job's identity, SLURM_CONF
# included, before it calls srun: the config must also be where SLURM looks by default.
mkdir -p "$(dirname "$SYSTEM_CONF")"
ln -sfn "$SLURM_CONF" "$SYSTEM_CONF"

# --- the daemons, each in the foreground of its own background process, so its PID is the daemon's ------
slurmdbd -D >>"$STATE/log/slurmdbd.out" 2>&1 &
remember slurmdbd $!
wait_for slurmdbd 30 sacctmgr --noheader list cluster
# a database kept from an earlier start already knows the cluster
sacctmgr --noheader list cluster "$CLUSTER" format=cluster | grep -q . || sacctmgr -i add cluster "$CLUSTER" >/dev/null
slurmctld -D -i >>"$STATE/log/slurmctld.out" 2>&1 &
remember slurmctld $!
wait_for slurmctld 30 scontrol ping
slurmd -D >>"$STATE/log/slurmd.out" 2>&1 &
remember slurmd $!
wait_for "the node" 60 bash -c "sinfo --noheader --nodes=$HOST --format=%t | grep -Eq '^(idle|mix|alloc)'"
wait_for "accounting" 30 bash -c "sacctmgr --noheader --parsable2 list cluster format=cluster,controlhost | grep -q '^$CLUSTER|.'"

elapsed=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $started }")
say "cluster '$CLUSTER' up in ${elapsed}s: node $HOST, $CPUS CPUs, gpu:$NODE_GPUS, ${NODE_MEMORY_MB} MB declared; state in $STATE"
echo "$elapsed" >"$STATE/startup_seconds"
echo "export SLURM_CONF=$SLURM_CONF"
