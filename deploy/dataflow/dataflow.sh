#!/usr/bin/env bash
# tollwatch on Google Cloud Dataflow: build the image and the flex template, run or update the
# streaming job. See deploy/README.md.
#
#   deploy/dataflow/dataflow.sh pin-launcher   resolve the launcher base's digest into launcher-image
#   deploy/dataflow/dataflow.sh image          build and push the image (launcher + SDK worker)
#   deploy/dataflow/dataflow.sh template       build the flex template spec in Cloud Storage
#   deploy/dataflow/dataflow.sh run            start the streaming job from the template
#   deploy/dataflow/dataflow.sh update         replace the running job in place (same job name)
#   deploy/dataflow/dataflow.sh submit [ARGS]  submit from this machine, no template (tollwatch run)
#   deploy/dataflow/dataflow.sh dry-run [ARGS] translate the job here without submitting it
#                                              (PROJECT and BUCKET optional: placeholders)
#   deploy/dataflow/dataflow.sh beam-options   print the job's Beam options, one a line
#
# submit and dry-run run `tollwatch run ARGS` (default: the streaming job below) with the Beam
# options of `beam-options`; they need `pip install 'tollwatch[gcp]'`. Settings, from the
# environment (only PROJECT and BUCKET have no default):
#   PROJECT          Google Cloud project id
#   BUCKET           gs://bucket for the template, staging, temp files (and the defaults below)
#   REGION           us-central1
#   IMAGE            REGION-docker.pkg.dev/PROJECT/tollwatch/tollwatch:TAG (TAG: the git commit)
#   TEMPLATE         BUCKET/templates/tollwatch-streaming.json
#   JOB_NAME         tollwatch-streaming (the stream: run, update, and submit/dry-run with --streaming)
#   REPLAY_JOB_NAME  tollwatch-replay-YYYYMMDD-HHMMSS (UTC): a batch job of submit/dry-run, a new name
#                    each time, so a replay never takes the stream's name nor another replay's
#   SERVICE_ACCOUNT  tollwatch-worker@PROJECT.iam.gserviceaccount.com (needs roles/dataflow.worker,
#                    storage object admin on BUCKET; the launcher runs as it too)
#   OUTPUT           BUCKET/out           WATCH   BUCKET/drop/**
#   FEEDS, EVENTS, SOURCES  optional gs:// TOML files (feeds to poll, events, known sources)
#   NUM_WORKERS      1    MAX_WORKERS  10    MACHINE_TYPE  n2-standard-4
#   SUBNETWORK       optional: regions/REGION/subnetworks/NAME; with it workers get no public IP
#   TRANSFORM_NAME_MAPPINGS  optional, for update: 'OldName=NewName,...' (renamed steps)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

: "${REGION:=us-central1}"
: "${JOB_NAME:=tollwatch-streaming}"
: "${NUM_WORKERS:=1}"
: "${MAX_WORKERS:=10}"
: "${MACHINE_TYPE:=n2-standard-4}"

need() {
  for name in "$@"; do
    if [ -z "${!name:-}" ]; then
      echo "dataflow.sh: set $name (see the top of $0)" >&2
      exit 2
    fi
  done
}

settings() {
  need PROJECT BUCKET
  BUCKET="${BUCKET%/}"
  : "${TAG:=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo latest)}"
  : "${IMAGE:=$REGION-docker.pkg.dev/$PROJECT/tollwatch/tollwatch:$TAG}"
  : "${TEMPLATE:=$BUCKET/templates/tollwatch-streaming.json}"
  : "${SERVICE_ACCOUNT:=tollwatch-worker@$PROJECT.iam.gserviceaccount.com}"
  : "${OUTPUT:=$BUCKET/out}"
  : "${WATCH:=$BUCKET/drop/**}"
}

# The Beam options of a production streaming job: Streaming Engine, throughput-based autoscaling
# between NUM_WORKERS and MAX_WORKERS, its own service account, the tollwatch image on the workers
# (so nothing is installed at worker start), and a stable job name for in-place updates.
beam_options() {
  settings
  printf '%s\n' \
    --runner=DataflowRunner \
    "--project=$PROJECT" \
    "--region=$REGION" \
    "--job_name=$JOB_NAME" \
    "--temp_location=$BUCKET/tmp" \
    "--staging_location=$BUCKET/staging" \
    "--service_account_email=$SERVICE_ACCOUNT" \
    "--sdk_container_image=$IMAGE" \
    --sdk_location=container \
    --enable_streaming_engine \
    --autoscaling_algorithm=THROUGHPUT_BASED \
    "--num_workers=$NUM_WORKERS" \
    "--max_num_workers=$MAX_WORKERS" \
    "--machine_type=$MACHINE_TYPE"
  if [ -n "${SUBNETWORK:-}" ]; then
    printf '%s\n' "--subnetwork=$SUBNETWORK" --no_use_public_ips
  fi
}

# The template parameters (metadata.json) of the streaming job, for gcloud's --parameters. The
# worker image and the autoscaling algorithm are Beam options passed the same way.
template_parameters() {
  settings
  local params="output=$OUTPUT,watch=$WATCH"
  [ -n "${FEEDS:-}" ] && params+=",feeds=$FEEDS"
  params+=",sdk_container_image=$IMAGE,autoscaling_algorithm=THROUGHPUT_BASED"
  [ -n "${EVENTS:-}" ] && params+=",events=$EVENTS"
  [ -n "${SOURCES:-}" ] && params+=",sources=$SOURCES"
  printf '%s' "$params"
}

streaming_job() {
  settings
  local args=(--streaming --watch "$WATCH" --output "$OUTPUT")
  [ -n "${FEEDS:-}" ] && args+=(--feeds "$FEEDS")
  [ -n "${EVENTS:-}" ] && args+=(--events "$EVENTS")
  [ -n "${SOURCES:-}" ] && args+=(--sources "$SOURCES")
  printf '%s\n' "${args[@]}"
}

launch() {  # run or update the job from the flex template
  settings
  local extra=()
  if [ "$1" = update ]; then
    extra+=(--update)
    [ -n "${TRANSFORM_NAME_MAPPINGS:-}" ] && extra+=("--transform-name-mappings=$TRANSFORM_NAME_MAPPINGS")
  fi
  if [ -n "${SUBNETWORK:-}" ]; then
    extra+=("--subnetwork=$SUBNETWORK" --disable-public-ips)
  fi
  gcloud dataflow flex-template run "$JOB_NAME" \
    --project="$PROJECT" --region="$REGION" \
    --template-file-gcs-location="$TEMPLATE" \
    --service-account-email="$SERVICE_ACCOUNT" \
    --staging-location="$BUCKET/staging" --temp-location="$BUCKET/tmp" \
    --enable-streaming-engine \
    --num-workers="$NUM_WORKERS" --max-workers="$MAX_WORKERS" \
    --worker-machine-type="$MACHINE_TYPE" \
    "${extra[@]}" \
    --parameters="$(template_parameters)"
}

# The flex template launcher's base, by digest (the Dockerfile has no default for it).
LAUNCHER_BASE=gcr.io/dataflow-templates-base/python311-template-launcher-base
: "${LAUNCHER_PIN:=$here/launcher-image}"

launcher_image() {
  local pinned
  pinned="$(cat "$LAUNCHER_PIN" 2>/dev/null || true)"
  if ! [[ "$pinned" =~ ^$LAUNCHER_BASE@sha256:[0-9a-f]{64}$ ]]; then
    echo "dataflow.sh: no launcher base pinned by digest in $LAUNCHER_PIN: run \`$0 pin-launcher\`" \
      "(gcloud) and commit the file" >&2
    exit 2
  fi
  printf '%s' "$pinned"
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
  pin-launcher)
    digest="$(gcloud container images describe "$LAUNCHER_BASE:latest" \
      --format='value(image_summary.digest)')"
    printf '%s@%s\n' "$LAUNCHER_BASE" "$digest" > "$LAUNCHER_PIN"
    cat "$LAUNCHER_PIN"
    ;;
  image)
    settings
    launcher="$(launcher_image)"  # here: a failure in $(...) of an argument would be ignored
    # BuildKit: it reads Dockerfile.dockerignore beside the Dockerfile (the legacy builder does not).
    DOCKER_BUILDKIT=1 docker build -f "$here/Dockerfile" --build-arg "LAUNCHER_IMAGE=$launcher" \
      -t "$IMAGE" "$root"
    docker push "$IMAGE"
    ;;
  template)
    settings
    gcloud dataflow flex-template build "$TEMPLATE" \
      --project="$PROJECT" \
      --image="$IMAGE" \
      --sdk-language=PYTHON \
      --metadata-file="$here/metadata.json"
    ;;
  run|update)
    launch "$command"
    ;;
  submit|dry-run)
    if [ "$command" = dry-run ]; then
      # Translated here, never sent: placeholders will do for what is not set.
      : "${PROJECT:=dry-run-project}" "${BUCKET:=gs://dry-run-bucket}"
    fi
    settings  # here, not only in the subshells below, whose exit would be ignored
    if [ $# -eq 0 ]; then
      mapfile -t job < <(streaming_job)
    else
      job=("$@")
    fi
    if ! printf '%s\n' "${job[@]}" | grep -qiE '^--streaming(=true)?$'; then
      JOB_NAME="${REPLAY_JOB_NAME:-tollwatch-replay-$(date -u +%Y%m%d-%H%M%S)}"
    fi
    mapfile -t options < <(beam_options)
    if [ "$command" = dry-run ]; then
      options+=(--dry_run=True --no_auth)
    fi
    exec "${TOLLWATCH:-tollwatch}" run "${job[@]}" "${options[@]}"
    ;;
  beam-options)
    beam_options
    ;;
  *)
    sed -n '2,32p' "$0" >&2
    exit 2
    ;;
esac
