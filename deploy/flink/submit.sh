#!/usr/bin/env bash
# Submit tollwatch to Flink through Beam's job server (deploy/flink/flinkdeployment.yaml).
#
#   deploy/flink/submit.sh                      the streaming job (settings below)
#   deploy/flink/submit.sh --input gs://b/archive/2026-05-12 --output gs://b/out
#                                               any `tollwatch run` arguments, e.g. a batch replay
#   deploy/flink/submit.sh port-forward         forward the job server's ports to localhost
#
# Runs `tollwatch run` here (pip install 'tollwatch[gcp]'): the pipeline is built on this machine,
# sent to the job server's Job API, and its Python steps run in the `beam-worker-pool` sidecars
# of the TaskManagers (EXTERNAL environment at localhost:50000, seen from the TaskManager).
# Settings, from the environment:
#   JOB_ENDPOINT  localhost:8099 (after `port-forward`; in the cluster:
#                 tollwatch-beam-job-server:8099)
#   OUTPUT, WATCH the streaming job's output folder and drop folder pattern: gs:// or s3:// (a
#                 filesystem the worker image has; the tollwatch image has gs://)
#   FEEDS, EVENTS, SOURCES  local TOML files: they are read here, when the pipeline is built
#   PARALLELISM   4; MAX_PARALLELISM 128 (the number of key groups of keyed state: fixed for the
#                 life of the job's savepoints, so set it once, above the parallelism you will need)
#   WORKER_POOL   localhost:50000: the SDK worker pool, as the TaskManager sees it (the sidecar)
#   ALLOW_PRIVATE_HOSTS=1  let feed URLs reach private addresses (off by default)
#   JOB_NAME      tollwatch-streaming for the stream; a batch job is REPLAY_JOB_NAME, by default
#                 tollwatch-replay-YYYYMMDD-HHMMSS (UTC), a new name each time
# A stream is checkpointed through its pipeline options (Beam's Flink runner builds the job from
# them): every CHECKPOINT_SECONDS (60), exactly once, RocksDB state with its checkpoints in
# CHECKPOINTS (a gs:// folder, required for a stream), kept when the job is cancelled.
#   SAVEPOINT     a savepoint or retained checkpoint to start the stream from (an upgrade)
set -euo pipefail

: "${JOB_ENDPOINT:=localhost:8099}"
: "${PARALLELISM:=4}"
: "${MAX_PARALLELISM:=128}"
: "${NAMESPACE:=default}"

if [ "${1:-}" = port-forward ]; then
  exec kubectl --namespace "$NAMESPACE" port-forward service/tollwatch-beam-job-server \
    8099:8099 8098:8098
fi

# The portable runner against the job server, Python steps in the worker pool sidecar.
runner=(
  --runner=PortableRunner
  "--job_endpoint=$JOB_ENDPOINT"
  --environment_type=EXTERNAL
  "--environment_config=${WORKER_POOL:-localhost:50000}"
  "--parallelism=$PARALLELISM"
  "--max_parallelism=$MAX_PARALLELISM"
)

if [ $# -gt 0 ]; then
  job=("$@")
else
  if [ -z "${OUTPUT:-}" ] || [ -z "${WATCH:-}${FEEDS:-}" ]; then
    echo "submit.sh: set OUTPUT and WATCH or FEEDS, or give tollwatch run arguments (see $0)" >&2
    exit 2
  fi
  job=(--streaming --output "$OUTPUT")
  [ -n "${WATCH:-}" ] && job+=(--watch "$WATCH")
  [ -n "${FEEDS:-}" ] && job+=(--feeds "$FEEDS")
  [ -n "${EVENTS:-}" ] && job+=(--events "$EVENTS")
  [ -n "${SOURCES:-}" ] && job+=(--sources "$SOURCES")
  [ -n "${ALLOW_PRIVATE_HOSTS:-}" ] && job+=(--allow-private-hosts)
fi

if printf '%s\n' "${job[@]}" | grep -qiE '^--streaming(=true)?$'; then
  runner+=("--job_name=${JOB_NAME:-tollwatch-streaming}")
  if [ -z "${CHECKPOINTS:-}" ]; then
    echo "submit.sh: set CHECKPOINTS to the gs:// folder of the stream's checkpoints (see $0)" >&2
    exit 2
  fi
  : "${CHECKPOINT_SECONDS:=60}"
  runner+=(
    "--checkpointing_interval=$((CHECKPOINT_SECONDS * 1000))"
    --checkpointing_mode=EXACTLY_ONCE
    "--min_pause_between_checkpoints=$((CHECKPOINT_SECONDS * 500))"
    --state_backend=rocksdb
    "--state_backend_storage_path=$CHECKPOINTS"
    --externalized_checkpoints_enabled
    --retain_externalized_checkpoints_on_cancellation
  )
  [ -n "${SAVEPOINT:-}" ] && runner+=("--savepoint_path=$SAVEPOINT")
else
  runner+=("--job_name=${REPLAY_JOB_NAME:-tollwatch-replay-$(date -u +%Y%m%d-%H%M%S)}")
fi

exec "${TOLLWATCH:-tollwatch}" run "${job[@]}" "${runner[@]}"
