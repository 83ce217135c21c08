"""deploy/: the Dataflow translation of the job (offline, DataflowRunner's dry run), the flex
template's parameters and entry point, and the portable runner (the Job API that Flink's job server
speaks) against the local runner."""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions
from apache_beam.portability.api import beam_runner_api_pb2 as runner_api
from apache_beam.portability.api import standard_window_fns_pb2
from apache_beam.utils.timestamp import Timestamp

from support import EXAMPLES, ROOT
from tollwatch.pipeline.build import build, build_streaming
from tollwatch.pipeline.cli import main
from tollwatch.pipeline.options import TollwatchOptions, unknown_flags
from tollwatch.pipeline.runner import make_pipeline
from tollwatch.schemas import arrow_schema
from tollwatch.schemas.duplicates import Signature
from tollwatch.schemas.tables import STATE_DIR, STATE_TABLES

DATAFLOW = ROOT / "deploy" / "dataflow"
# BEAM_NOTES.md: these translate a job without credentials and without submitting it.
DRY_RUN = ["--runner=DataflowRunner", "--project=my-project-123", "--region=us-central1",
           "--temp_location=gs://my-bucket/tmp", "--staging_location=gs://my-bucket/staging",
           "--dry_run=True", "--no_auth", "--sdk_location=container"]
IMAGE = "us-central1-docker.pkg.dev/my-project-123/tollwatch/tollwatch:test"
# The steps a running job is updated by (Dataflow matches steps by these names): renaming one
# breaks `dataflow.sh update` unless it is given in TRANSFORM_NAME_MAPPINGS.
STABLE_STEPS = {
    "ReadFiles", "Progress", "ExtractArticles", "StripRepeatedPassages", "AssignEvents",
    "FindCopies", "TollStats", "AllDeadLetters",
    "KeepSignatures", "WriteArticles", "WriteClaims", "WriteTollWindows", "WriteDeadLetters",
    "KnownSignatures", "RemoveStaging",
}
STREAMING_STEPS = {
    "WatchFolder", "AllRawDocs", "ExtractArticles", "StripRepeatedPassages", "AssignEvents",
    "FindCopies", "TollStats", "AllDeadLetters", "articlesWriteWindows",
    "claimsWriteWindows", "tollWriteWindows", "dead_lettersWriteWindows", "WriteArticles",
    "WriteClaims", "WriteTollWindows", "WriteDeadLetters", "signaturesWriteWindows",
    "KeepSignatures",
}
DAY_MS, HOUR_MS = 86_400_000, 3_600_000

try:
    from apache_beam.runners.dataflow.internal import apiclient
except ImportError:  # apache-beam without [gcp]
    apiclient = None
needs_gcp = pytest.mark.skipif(apiclient is None, reason="needs apache-beam[gcp] (the dev extra)")


def dry_run_job(output: Path, beam_args: list[str]):
    """The Dataflow job of the batch pipeline, built as `tollwatch run` builds it (options, runner,
    stages), translated by DataflowRunner with --dry_run: nothing is staged or submitted.

    The input is a gs:// pattern (matched only when the job runs); the output is local because
    building the pipeline lists the output folder's continuation state."""
    patterns = ["gs://my-bucket/drop/**"]
    options = PipelineOptions(beam_args, input=patterns, output=str(output),
                              events=str(EXAMPLES / "events.toml"),
                              sources=[str(EXAMPLES / "sources.toml")])
    pipeline = make_pipeline(options)
    build(pipeline, options.view_as(TollwatchOptions), patterns, now=Timestamp.now())
    return pipeline.run().job


def with_earlier_state(output: Path) -> Path:
    """An output folder holding (empty) continuation state of an earlier run, so the job also
    reads the known signatures, as a job continuing into an existing output does."""
    folder = output / STATE_DIR / STATE_TABLES["signatures"].name / "published_date=2026-05-12"
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([], schema=arrow_schema(Signature)), folder / "part-0.parquet")
    return output


def transforms_by_name(job) -> dict:
    return {t.unique_name: t for t in job.proto_pipeline.components.transforms.values()}


def windowing_of(job, step: str) -> runner_api.WindowingStrategy:
    components = job.proto_pipeline.components
    (pcoll,) = transforms_by_name(job)[step].outputs.values()
    return components.windowing_strategies[components.pcollections[pcoll].windowing_strategy_id]


def our_module_files() -> set[str]:
    return {p.name for folder in ("pipeline", "transforms", "schemas") for p in (ROOT / folder).glob("*.py")}


@needs_gcp
def test_dataflow_translates_the_batch_job_with_stable_names_state_and_windows(tmp_path):
    job = dry_run_job(with_earlier_state(tmp_path / "out"), DRY_RUN + [f"--sdk_container_image={IMAGE}"])
    assert job.proto.type_.name == "JOB_TYPE_BATCH"
    steps = transforms_by_name(job)
    assert STABLE_STEPS <= {name.split("/")[0] for name in steps}
    # Labels Beam derives from a lambda carry its line number: a step of ours named that way would
    # change name with any edit above it, and an update would no longer find it.
    generated = [n for n in steps if any(f"at {f}:" in n for f in our_module_files())]
    assert generated == []

    # The duplicate decisions of a batch job: the names of the run's staging files, which hold its
    # digests (and the earlier state's signatures), in one grouping, as bytes (no pickled records),
    # no per-key state (the streaming job's buckets are checked below).
    components = job.proto_pipeline.components
    grouping = steps["FindCopies/ResolveDuplicates/OneKey"]
    assert grouping.spec.urn == "beam:transform:group_by_key:v1"
    (main_input,) = grouping.inputs.values()
    kv = components.coders[components.pcollections[main_input].coder_id]
    assert kv.spec.urn == "beam:coder:kv:v1"
    assert [components.coders[c].spec.urn for c in kv.component_coder_ids] == [
        "beam:coder:string_utf8:v1", "beam:coder:bytes:v1"]
    assert not [n for n in steps if n.startswith("FindCopies/MarkNearDuplicates")]
    # Records cross as schema'd rows whose every field has its type: a field Beam could not type
    # (`pythonsdk_any`) is coded by the Python SDK's own object coder, which nothing else reads.
    rows = [c for c in components.coders.values() if c.spec.urn == "beam:coder:row:v1"]
    assert rows and not [c for c in rows if b"pythonsdk_any" in c.spec.payload]

    # The toll of a batch job: claims grouped once per (event, measure, group) in the global window
    # and swept in time order (the sliding windows and their panes are the streaming job's).
    assert "TollStats/GroupByToll" in steps
    assert windowing_of(job, "TollStats/GlobalWindow").window_fn.urn == "beam:window_fn:global_windows:v1"
    assert not [n for n in steps if n.startswith(("TollStats/Windows/", "TollStats/AsOf/"))]

    (environment,) = components.environments.values()
    assert runner_api.DockerPayload.FromString(environment.payload).container_image == IMAGE
    assert "KnownSignatures/ReadState" in steps


def dry_run_streaming_job(output: Path, beam_args: list[str]):
    """The Dataflow job of `tollwatch run --streaming --watch gs://.../drop/** --feed URL
    --output ...`, built as run_streaming builds it, translated with --dry_run."""
    from tollwatch.pipeline.cli import feed_source

    options = PipelineOptions(beam_args, watch=["gs://my-bucket/drop/**"], output=str(output),
                              events=str(EXAMPLES / "events.toml"),
                              feed=["https://news.example/valdoria.xml"])
    pipeline = make_pipeline(options)
    build_streaming(pipeline, options.view_as(TollwatchOptions), feed_source(options))
    return pipeline.run().job


@needs_gcp
def test_the_streaming_job_with_the_deploy_scripts_options_translates_for_streaming_engine(tmp_path):
    env = {**os.environ, "PROJECT": "my-project-123", "BUCKET": "gs://my-bucket", "TAG": "test"}
    options = subprocess.run(["bash", str(DATAFLOW / "dataflow.sh"), "beam-options"], env=env,
                             capture_output=True, text=True, check=True).stdout.split()
    assert unknown_flags(options) == []
    # Beam packages the project itself when a job is launched with --setup_file instead of the
    # image: it builds the sdist here (python -m build, from the dev/gcp extra).
    job = dry_run_streaming_job(tmp_path / "out", options + [
        "--dry_run=True", "--no_auth", "--streaming", f"--setup_file={ROOT / 'pyproject.toml'}"])
    assert job.proto.type_.name == "JOB_TYPE_STREAMING"
    assert job.options.view_as(GoogleCloudOptions).enable_streaming_engine
    steps = transforms_by_name(job)
    assert STREAMING_STEPS | {"ReadFeeds"} <= {name.split("/")[0] for name in steps}
    assert [n for n in steps if any(f"at {f}:" in n for f in our_module_files())] == []
    # Every piece of streaming state is dropped by an event-time timer: none grows for ever.
    stateful = {}
    for name, transform in steps.items():
        if transform.spec.urn == "beam:transform:pardo:v1":
            payload = runner_api.ParDoPayload.FromString(transform.spec.payload)
            if payload.state_specs:
                stateful[name] = {t.time_domain for t in payload.timer_family_specs.values()}
    assert set(stateful) >= {"FindCopies/MarkNearDuplicates/Links/Buckets", "FindCopies/MarkNearDuplicates/Resolve",
                             "WatchFolder/NewFiles", "ReadFeeds/Poll/ParDo(PollFeedFn)"}, sorted(stateful)
    assert all(domains == {runner_api.TimeDomain.EVENT_TIME} for domains in stateful.values()), stateful
    # The near-duplicate index of the stream: per band key a bag of held signatures, expired by
    # an event-time timer.
    payload = runner_api.ParDoPayload.FromString(
        steps["FindCopies/MarkNearDuplicates/Links/Buckets"].spec.payload)
    assert set(payload.state_specs) == {"held"} and payload.state_specs["held"].HasField("bag_spec")
    # The toll: sliding windows, late panes up to the allowed lateness, accumulating.
    for step, size_ms in (("TollStats/Windows/Window", DAY_MS), ("TollStats/AsOf/Window", 30 * DAY_MS)):
        strategy = windowing_of(job, step)
        assert strategy.window_fn.urn == "beam:window_fn:sliding_windows:v1"
        sliding = standard_window_fns_pb2.SlidingWindowsPayload.FromString(strategy.window_fn.payload)
        assert (sliding.size.seconds * 1000, sliding.period.seconds * 1000) == (size_ms, 6 * HOUR_MS)
        assert strategy.allowed_lateness == 7 * DAY_MS
        assert strategy.accumulation_mode == runner_api.AccumulationMode.ACCUMULATING
        assert strategy.trigger.after_end_of_window.late_firings.element_count.element_count == 1

    (environment,) = job.proto_pipeline.components.environments.values()
    staged = {runner_api.ArtifactStagingToRolePayload.FromString(d.role_payload).staged_name
              for d in environment.dependencies}
    assert "workflow.tar.gz" in staged  # the project's sdist, installed on the workers
    # The job description Dataflow would receive (built offline from the translated job).
    described = apiclient.Environment(
        packages=[], options=job.options, environment_version=apiclient._FNAPI_ENVIRONMENT_MAJOR_VERSION,
        proto_pipeline_staged_url="gs://my-bucket/staging/pipeline.pb",
        proto_pipeline=job.proto_pipeline).proto
    assert described.service_account_email == "tollwatch-worker@my-project-123.iam.gserviceaccount.com"
    assert {"enable_streaming_engine", "enable_windmill_service"} <= set(described.experiments)
    (pool,) = described.worker_pools
    assert (pool.num_workers, pool.autoscaling_settings.max_num_workers) == (1, 10)
    assert pool.autoscaling_settings.algorithm.name == "AUTOSCALING_ALGORITHM_BASIC"  # THROUGHPUT_BASED
    assert pool.machine_type == "n2-standard-4"
    assert pool.worker_harness_container_image == (
        "us-central1-docker.pkg.dev/my-project-123/tollwatch/tollwatch:test")


@needs_gcp
def test_tollwatch_run_returns_after_a_dry_run_instead_of_waiting_for_counters(tmp_path, capsys):
    assert main(["run", "--input", str(EXAMPLES / "day2_vocr_update.txt"), "--output",
                 str(tmp_path / "out"), *DRY_RUN, "-q"]) == 0
    assert "Dry run: the job was translated" in capsys.readouterr().out
    assert not (tmp_path / "out" / "articles").exists()


@needs_gcp
def test_a_batch_dry_run_does_not_list_a_remote_input(tmp_path, capsys):
    # Offline, listing gs:// retries for 120 s per listing (the dry run "hung"); the job matches
    # its input when it runs, so the dry run translates it unlisted.
    assert main(["run", "--input", "gs://my-bucket/archive/2026-05/**", "--output",
                 str(tmp_path / "out"), *DRY_RUN, "-q"]) == 0
    assert "the input is matched when it runs" in capsys.readouterr().out


def test_a_remote_path_that_does_not_answer_fails_within_the_deadline(monkeypatch):
    from apache_beam.io.filesystems import FileSystems

    from tollwatch.pipeline.cli import RunError, check_reachable

    asked = []

    def unreachable(path):
        asked.append(path)
        time.sleep(30)  # as the GCS client retrying an unknown host

    monkeypatch.setattr(FileSystems, "exists", unreachable)
    started = time.monotonic()
    with pytest.raises(RunError, match="did not answer within 0.5 s"):
        check_reachable("gs://my-bucket/archive/2026-*/**", seconds=0.5)
    assert time.monotonic() - started < 5
    assert asked == ["gs://my-bucket/archive/2026-"]  # the part before the wildcard

    def refused(path):
        raise OSError("403 Forbidden: anonymous caller does not have storage.objects.get")

    monkeypatch.setattr(FileSystems, "exists", refused)
    with pytest.raises(RunError, match="cannot reach it: OSError: 403 Forbidden"):
        check_reachable("gs://my-bucket/out", seconds=5)
    monkeypatch.setattr(FileSystems, "exists", lambda path: False)
    check_reachable("gs://my-bucket/out", seconds=5)  # answered: a missing folder is fine


def test_a_batch_dry_run_into_an_unreachable_output_says_so_at_once(monkeypatch, capsys):
    from apache_beam.io.filesystems import FileSystems

    from tollwatch.pipeline import cli

    monkeypatch.setattr(FileSystems, "exists", lambda path: time.sleep(30))
    monkeypatch.setattr(cli, "REACH_SECONDS", 0.5)
    started = time.monotonic()
    assert main(["run", "--input", str(EXAMPLES / "day2_vocr_update.txt"), "--output",
                 "gs://my-bucket/out", *DRY_RUN, "-q"]) == 2
    assert time.monotonic() - started < 10
    assert "give a local --output" in capsys.readouterr().err


@needs_gcp
def test_a_streaming_dry_run_into_a_remote_output_reads_nothing_of_it(monkeypatch, capsys):
    # A (re)started stream reads what OUT holds (resume.py); a dry run only translates the graph,
    # offline: reading gs:// OUT there retried for minutes and the dry run gave up after 180 s.
    from apache_beam.io.filesystems import FileSystems

    def unreachable(*args, **kwargs):
        time.sleep(30)  # as the GCS client retrying an unknown host

    for name in ("exists", "match"):
        monkeypatch.setattr(FileSystems, name, unreachable)
    started = time.monotonic()
    assert main(["run", "--streaming", "--watch", "gs://my-bucket/drop/**", "--output",
                 "gs://my-bucket/out", "--events", str(EXAMPLES / "events.toml"), *DRY_RUN,
                 "-q"]) == 0
    assert time.monotonic() - started < 25
    assert "the streaming job was translated" in capsys.readouterr().out


def test_make_dataflow_dry_run_works_as_the_readme_gives_it_without_project_or_bucket():
    env = {k: v for k, v in os.environ.items() if k not in ("PROJECT", "BUCKET")}
    env["TOLLWATCH"] = "echo"
    done = subprocess.run(["bash", str(ROOT / "deploy" / "dataflow" / "dataflow.sh"), "dry-run"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    args = done.stdout.split()
    assert args[:2] == ["run", "--streaming"] and "--output" in args
    assert "--project=dry-run-project" in args and "--dry_run=True" in args


def job_name(command: list[str], env: dict) -> str:
    args = subprocess.run(["bash", *command], env={**os.environ, "TOLLWATCH": "echo", **env},
                          capture_output=True, text=True, check=True).stdout.split()
    (name,) = [a.split("=", 1)[1] for a in args if a.startswith("--job_name=")]
    return name


def test_the_stream_and_a_batch_replay_get_distinct_job_names():
    # Dataflow runs one job of a name at a time, and `update` replaces the job of that name: a
    # replay named as the stream would be refused, or replace it.
    dataflow = {"PROJECT": "p-123456", "BUCKET": "gs://b"}
    flink = {"OUTPUT": "gs://b/out", "WATCH": "gs://b/drop/**", "CHECKPOINTS": "gs://b/ck"}
    batch = ["--input", "gs://b/archive", "--output", "gs://b/out"]
    for script, env in ((DATAFLOW / "dataflow.sh", dataflow), (ROOT / "deploy" / "flink" / "submit.sh", flink)):
        command = [str(script), "dry-run"] if script.name == "dataflow.sh" else [str(script)]
        stream = job_name(command, env)
        assert stream == job_name([*command, "--streaming", "--watch", "gs://b/drop/**",
                                   "--output", "gs://b/out"], env) == "tollwatch-streaming"
        replay = job_name([*command, *batch], env)
        assert re.fullmatch(r"tollwatch-replay-\d{8}-\d{6}", replay), replay
        assert job_name([*command, *batch], {**env, "REPLAY_JOB_NAME": "may-replay"}) == "may-replay"
        for name in (stream, replay):  # Dataflow's rule for job names
            assert re.fullmatch(r"[a-z]([-a-z0-9]{0,1022}[a-z0-9])?", name)


# ---- the image -----------------------------------------------------------------------------------
def pinned_requirements() -> dict[str, str]:
    from packaging.utils import canonicalize_name

    pins = {}
    for line in (DATAFLOW / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            found = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+!-]*)", line.strip())
            assert found, f"not pinned: {line}"
            pins[canonicalize_name(found.group(1))] = found.group(2)
    return pins


def test_the_image_is_built_from_pinned_bases_and_pinned_requirements():
    import importlib.metadata
    import tomllib

    import apache_beam
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    dockerfile = "\n".join(line for line in (DATAFLOW / "Dockerfile").read_text().splitlines()
                           if not line.startswith("#"))
    assert ":latest" not in dockerfile
    assert re.findall(r"^FROM (\S+)", dockerfile, re.M) == [
        "${LAUNCHER_IMAGE}", "apache/beam_python3.11_sdk:${BEAM_VERSION}",
        "apache/beam_python3.11_sdk:${BEAM_VERSION}"]
    assert re.search(r"^ARG LAUNCHER_IMAGE$", dockerfile, re.M)  # no default: a digest is passed
    assert "pip install --no-cache-dir -r /tmp/requirements.txt" in dockerfile
    assert "--no-deps /dist/*.whl" in dockerfile and "&& pip check" in dockerfile

    pins = pinned_requirements()
    assert pins["apache-beam"] == apache_beam.__version__
    # Every dependency of tollwatch, and of apache-beam[gcp] at its pin, is pinned at a version
    # its specifier takes (read from pyproject.toml and Beam's metadata: nothing to keep in step).
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    wanted += [r for r in map(Requirement, importlib.metadata.requires("apache-beam"))
               if r.marker is None or r.marker.evaluate({"extra": "gcp"})]
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not pinned"
        assert requirement.specifier.contains(pins[name], prereleases=True), (str(requirement), pins[name])


def sdk_image_requirements() -> Path | None:
    """Beam's own pins of its Python 3.11 SDK image, in the Beam Go module Prism is built from
    (`make runners`), or None when that module is not in the Go module cache."""
    import apache_beam

    try:
        cache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    path = (Path(cache) / "github.com" / "apache" / "beam" / "sdks" / f"v2@v{apache_beam.__version__}"
            / "python" / "container" / "py311" / "base_image_requirements.txt")
    return path if path.is_file() else None


@pytest.mark.skipif(sdk_image_requirements() is None,
                    reason="needs Beam's Go module in the Go module cache (make runners)")
def test_the_pins_keep_the_sdk_images_own_packages_at_their_versions():
    # The image installs requirements.txt over the packages Beam released its SDK image with: a pin
    # that moved one of them would leave the image's other packages untested against it.
    from packaging.utils import canonicalize_name

    image = {canonicalize_name(m.group(1)): m.group(2) for m in re.finditer(
        r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", sdk_image_requirements().read_text(), re.M)}
    pins = pinned_requirements()
    moved = {name: (pins[name], image[name]) for name in pins.keys() & image.keys()
             if pins[name] != image[name]}
    assert moved == {}


def test_image_builds_only_with_a_launcher_pinned_by_digest(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "docker").write_text('#!/bin/sh\necho "DOCKER_BUILDKIT=$DOCKER_BUILDKIT $*" >> "$CALLS"\n')
    (fake / "docker").chmod(0o755)
    calls, pin = tmp_path / "calls", tmp_path / "launcher-image"
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "CALLS": str(calls),
           "LAUNCHER_PIN": str(pin), "PROJECT": "p-123456", "BUCKET": "gs://b", "TAG": "t"}
    image = ["bash", str(DATAFLOW / "dataflow.sh"), "image"]
    for unpinned in (None, "gcr.io/dataflow-templates-base/python311-template-launcher-base:latest"):
        if unpinned:
            pin.write_text(unpinned + "\n")
        done = subprocess.run(image, env=env, capture_output=True, text=True)
        assert done.returncode == 2 and "pin-launcher" in done.stderr and not calls.exists()
    pinned = "gcr.io/dataflow-templates-base/python311-template-launcher-base@sha256:" + "0" * 64
    pin.write_text(pinned + "\n")
    subprocess.run(image, env=env, check=True, capture_output=True)
    build, push = calls.read_text().splitlines()
    assert build.startswith("DOCKER_BUILDKIT=1 build -f ") and f"--build-arg LAUNCHER_IMAGE={pinned}" in build
    assert push.endswith("push us-central1-docker.pkg.dev/p-123456/tollwatch/tollwatch:t")


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` (relative to the context) out: the last pattern that matches
    the path or one of its parent folders decides; `!` takes back in; `*` stays within a folder,
    `**` spans folders."""
    parts = path.split("/")
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        wildcards = {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
        regex = "".join(wildcards.get(token, re.escape(token))
                        for token in re.split(r"(\*\*/?|\*|\?)", glob) if token)
        if any(re.fullmatch(regex, "/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            ignored = not negated
    return ignored


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_else():
    patterns = [line.strip() for line in (DATAFLOW / "Dockerfile.dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert dockerignored(".bench/corpus/a.txt", ["*", "!pipeline"])  # the matcher itself
    assert not dockerignored("pipeline/cli.py", ["*", "!pipeline"])
    assert dockerignored("pipeline/__pycache__/cli.pyc", ["*", "!pipeline", "**/__pycache__"])
    copied = [source for line in (DATAFLOW / "Dockerfile").read_text().splitlines()
              if line.startswith("COPY ") and "--from=" not in line
              for source in line.split()[1:-1]]
    assert "deploy/dataflow/requirements.txt" in copied
    for source in copied:
        files = [p for p in (ROOT / source).rglob("*") if p.is_file()] if (ROOT / source).is_dir() \
            else [ROOT / source]
        for file in files:
            relative = file.relative_to(ROOT).as_posix()
            assert dockerignored(relative, patterns) == ("__pycache__" in relative), relative
    for left_out in (".bench/10k/doc-1.txt", ".hypothesis/examples/x", ".pytest_cache/v/cache",
                     ".venv/bin/python", ".git/HEAD", "tests/unit/test_dedup.py", "demo-output/x",
                     "benchmarks/bench.py", "deploy/flink/flinkdeployment.yaml"):
        assert dockerignored(left_out, patterns), left_out


GCLOUD = shutil.which("gcloud")


@pytest.mark.skipif(GCLOUD is None, reason="needs the Google Cloud CLI (gcloud) for its --help")
def test_every_gcloud_flag_the_script_passes_is_one_the_installed_gcloud_knows(tmp_path):
    # The gcloud commands cannot run here (no project); their flags are checked against the
    # installed CLI's own help, which needs no network.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "gcloud").write_text('#!/bin/sh\nprintf "%s\\n" "$*" >> "$CALLS"\n'
                                 'case "$*" in *describe*) echo sha256:' + "0" * 64 + ';; esac\n')
    (fake / "gcloud").chmod(0o755)
    calls = tmp_path / "calls"
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "CALLS": str(calls),
           "PROJECT": "p-123456", "BUCKET": "gs://b", "TAG": "t", "FEEDS": "gs://b/feeds.toml",
           "SUBNETWORK": "regions/us-central1/subnetworks/n", "TRANSFORM_NAME_MAPPINGS": "A=B",
           "LAUNCHER_PIN": str(tmp_path / "launcher-image")}
    for command in ("template", "run", "update", "pin-launcher"):
        subprocess.run(["bash", str(DATAFLOW / "dataflow.sh"), command], env=env, check=True,
                       capture_output=True)
    invoked = calls.read_text().splitlines()
    assert len(invoked) == 4
    for line in invoked:
        words = line.split()
        group = words[:3]  # dataflow flex-template run|build, container images describe
        help_text = subprocess.run([GCLOUD, *group, "--help"], capture_output=True, text=True,
                                   env={**os.environ, "PAGER": "cat"}, timeout=120).stdout
        help_text = re.sub(r"\x1b\[[0-9;]*m", "", help_text)
        flags = {w.split("=", 1)[0] for w in words if w.startswith("--")}
        assert flags and not [f for f in flags if f not in help_text], (group, flags)


# ---- the flex template --------------------------------------------------------------------------
def load_template_main():
    spec = importlib.util.spec_from_file_location("template_main", DATAFLOW / "main.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# A value each parameter must accept and one it must refuse.
PARAMETER_VALUES = {
    "output": ("gs://my-bucket/tollwatch/out", "/local/out"),
    "feeds": ("gs://my-bucket/config/feeds.toml", "gs://my-bucket/config/feeds.json"),
    "feed": ("https://news.example/rss.xml http://b.example/atom", "ftp://news.example/rss"),
    "watch": ("gs://my-bucket/drop/**", "s3://my-bucket/drop"),
    "events": ("gs://my-bucket/config/events.toml", "events.toml"),
    "sources": ("gs://my-bucket/config/sources.toml gs://my-bucket/config/more.toml",
                "gs://my-bucket/*.toml"),
    "allow_private_hosts": ("false", "yes"),
    "allow_network": ("10.1.2.0/24 fd00::/8", "10.1.2.0"),
    "max_file_bytes": ("20971520", "20MiB"),
    "parquet_shards": ("4", "0"),
    "window_hours": ("24", "-1"),
    "period_hours": ("6", "six"),
    "as_of_days": ("30", "0"),
    "allowed_lateness_hours": ("168", "1e3"),
    "fetch_timeout_seconds": ("20", "20s"),
    "max_fetch_seconds": ("120.5", "-1"),
    "tick_seconds": ("30", ""),
    "write_window_seconds": ("60", "0.5"),
}
# Options a user of the streaming template has no use for, and why.
NOT_TEMPLATE_PARAMETERS = {"input": "batch only: the stream reads --watch and --feeds"}


def template_options() -> dict[str, object]:
    """{option name: default} of every tollwatch pipeline option a template user can set, read
    from the options classes themselves, so a new option cannot be left out of metadata.json."""
    import argparse

    from tollwatch.pipeline.options import LiveOptions

    parser = argparse.ArgumentParser(add_help=False)
    for options in (TollwatchOptions, LiveOptions):
        options._add_argparse_args(parser)
    return {a.dest: a.default for a in parser._actions if a.dest not in NOT_TEMPLATE_PARAMETERS}



def test_every_template_parameter_is_described_validated_and_known_to_the_cli():
    metadata = json.loads((DATAFLOW / "metadata.json").read_text())
    assert metadata["streaming"] is True
    parameters = {p["name"]: p for p in metadata["parameters"]}
    assert len(parameters) == len(metadata["parameters"])
    options = template_options()
    assert set(parameters) == set(options) == set(PARAMETER_VALUES)
    for name, default in options.items():  # a value the CLI would take by default is valid
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            value = f"{default:.3f}".rstrip("0").rstrip(".")
            assert all(re.fullmatch(r, value) for r in parameters[name]["regexes"]), (name, value)
    for name, parameter in parameters.items():
        assert parameter["label"] and parameter["helpText"] and parameter["regexes"], name
        assert parameter["isOptional"] is (name != "output")
        good, bad = PARAMETER_VALUES[name]
        for regex in parameter["regexes"]:
            assert re.fullmatch(regex, good), (name, good)
            assert not re.fullmatch(regex, bad), (name, bad)
    # What the entry point makes of every parameter is a flag `tollwatch run` knows.
    command = load_template_main().run_args(
        [f"--{name}={good}" for name, (good, _) in PARAMETER_VALUES.items()], fetch=lambda path: path)
    assert unknown_flags(command[1:]) == []


def test_the_template_entry_point_turns_launcher_arguments_into_the_streaming_command(tmp_path):
    template = load_template_main()
    fetched = []

    def fetch(path):
        fetched.append(path)
        local = tmp_path / Path(path).name
        local.write_text("")
        return str(local)

    args = template.run_args([
        "--output=gs://b/out", "--feeds=gs://b/config/feeds.toml", "--watch=gs://b/drop/**",
        "--events", str(EXAMPLES / "events.toml"), "--feed=https://a.example/rss https://b.example/rss",
        "--allow_private_hosts=false", "--project=p", "--region=us-central1",
        "--template_location=gs://b/staging/job_object", "--streaming=true"], fetch)
    assert args[:2] == ["run", "--streaming"]
    assert fetched == ["gs://b/config/feeds.toml"]  # local paths stay as they are
    assert args[args.index("--feeds") + 1] == str(tmp_path / "feeds.toml")
    assert args[args.index("--events") + 1] == str(EXAMPLES / "events.toml")
    assert [args[i + 1] for i, a in enumerate(args) if a == "--feed"] == [
        "https://a.example/rss", "https://b.example/rss"]
    assert "--allow-private-hosts" not in args and "--streaming=true" not in args
    assert "--runner=DataflowRunner" in args and "--template_location=gs://b/staging/job_object" in args
    assert "--allow-private-hosts" in template.run_args(["--allow_private_hosts=true"], fetch)
    assert template.run_args(["--allow_network=10.1.2.0/24 10.9.0.0/16"], fetch)[2:6] == [
        "--allow-network", "10.1.2.0/24", "--allow-network", "10.9.0.0/16"]
    assert template.run_args(["--runner=DirectRunner"], fetch).count("--runner=DirectRunner") == 1
    assert template.run_args(["--sources=gs://b/a.toml gs://b/b.toml"], fetch)[2:6] == [
        "--sources", str(tmp_path / "a.toml"), "--sources", str(tmp_path / "b.toml")]
    with pytest.raises(ValueError):
        template.run_args(["--allow_private_hosts=maybe"], fetch)


# ---- the Flink deployment ------------------------------------------------------------------------
# Options of Beam's Java FlinkPipelineOptions that submit.sh passes: Python does not define them,
# the Flink job server describes them to the PortableRunner, which parses them by these names.
# With the type the job server gives each (FlinkPipelineOptions' getters: Long, String, Boolean).
FLINK_RUNNER_OPTIONS = {
    "checkpointing_interval": int, "checkpointing_mode": str, "min_pause_between_checkpoints": int,
    "state_backend": str, "state_backend_storage_path": str, "externalized_checkpoints_enabled": bool,
    "retain_externalized_checkpoints_on_cancellation": bool, "savepoint_path": str,
}


def as_portable_runner_reads(flags: list[str]) -> dict:
    """The values of the Flink runner's options among `flags` as the PortableRunner parses them once
    the job server has described them (portable_runner.JobServiceHandle.get_pipeline_options)."""
    def described(parser):
        for name, kind in FLINK_RUNNER_OPTIONS.items():
            extra = {"action": "store_true"} if kind is bool else {"type": kind}
            parser.add_argument(f"--{name}", **extra)

    values = PipelineOptions(flags).get_all_options(add_extra_args_fn=described)
    return {name: values[name] for name in FLINK_RUNNER_OPTIONS}


def test_the_flink_manifest_image_and_scripts_agree_with_the_pinned_beam_and_each_other():
    import apache_beam
    import yaml
    from apache_beam.options.pipeline_options import FlinkRunnerOptions

    manifest = list(yaml.safe_load_all((ROOT / "deploy" / "flink" / "flinkdeployment.yaml").read_text()))
    docs = {d["kind"]: d for d in manifest}
    assert len(docs) == len(manifest)
    flink, server = docs["FlinkDeployment"]["spec"], docs["Deployment"]["spec"]["template"]["spec"]
    (job_server,) = server["containers"]
    found = re.fullmatch(r"apache/beam_flink(\d+\.\d+)_job_server:(\S+)", job_server["image"])
    assert found and found.group(2) == apache_beam.__version__
    assert found.group(1) in FlinkRunnerOptions.PUBLISHED_FLINK_VERSIONS
    assert flink["flinkVersion"] == "v" + found.group(1).replace(".", "_")
    assert f"--flink-master={docs['FlinkDeployment']['metadata']['name']}-rest:8081" in job_server["args"]
    # Flink at an exact version, with its gs:// filesystem plugin of that version on every pod.
    flink_version = re.fullmatch(r"flink:(\d+\.\d+\.\d+)-java17", flink["image"]).group(1)
    assert flink_version.startswith(found.group(1) + ".")
    for role in ("jobManager", "taskManager"):
        containers = {c["name"]: c for c in flink[role]["podTemplate"]["spec"]["containers"]}
        env = {e["name"]: e["value"] for e in containers["flink-main-container"]["env"]}
        assert env["ENABLE_BUILT_IN_PLUGINS"] == f"flink-gs-fs-hadoop-{flink_version}.jar", role
    # Artifacts on a bucket, not a shared volume; every pod with the Workload Identity account.
    assert "PersistentVolumeClaim" not in docs
    assert not [c for c in [job_server, *containers.values()] if c.get("volumeMounts")]
    artifacts = next(a.split("=", 1)[1] for a in job_server["args"] if a.startswith("--artifacts-dir="))
    assert artifacts.startswith("gs://")
    account = docs["ServiceAccount"]["metadata"]
    assert re.fullmatch(r"[^@\s]+@[^.\s]+\.iam\.gserviceaccount\.com",
                        account["annotations"]["iam.gke.io/gcp-service-account"])
    assert flink["serviceAccount"] == server["serviceAccountName"] == account["name"]
    binding = docs["RoleBinding"]
    assert binding["roleRef"]["name"] == docs["Role"]["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["name"]}]
    # Checkpointing is the job's (pipeline options), not the cluster's or the job server's.
    assert not [k for k in flink["flinkConfiguration"] if k.startswith("execution.checkpointing")]
    assert "ConfigMap" not in docs and not [a for a in job_server["args"] if "flink-conf" in a]
    pool = containers["beam-worker-pool"]
    assert pool["args"] == ["--worker_pool"]
    (port,) = [p["containerPort"] for p in pool["ports"]]

    env = {**os.environ, "TOLLWATCH": "echo"}
    submit = ["bash", str(ROOT / "deploy" / "flink" / "submit.sh")]
    submitted = subprocess.run([*submit, "--input", "gs://b/in", "--output", "gs://b/out"], env=env,
                               capture_output=True, text=True, check=True).stdout.split()
    assert submitted[:5] == ["run", "--input", "gs://b/in", "--output", "gs://b/out"]
    assert unknown_flags(submitted[5:]) == []
    assert f"--environment_config=localhost:{port}" in submitted
    assert "--environment_type=EXTERNAL" in submitted and "--runner=PortableRunner" in submitted
    assert not [a for a in submitted if a.startswith("--checkpointing")]  # a batch replay
    stream = {**env, "OUTPUT": "gs://b/out", "WATCH": "gs://b/drop/**"}
    refused = subprocess.run(submit, env=stream, capture_output=True, text=True)
    assert refused.returncode == 2 and "CHECKPOINTS" in refused.stderr
    streamed = subprocess.run(submit, env={**stream, "CHECKPOINTS": "gs://b/ck", "SAVEPOINT": "gs://b/sp/1"},
                              capture_output=True, text=True, check=True).stdout.split()
    assert {f.split("=", 1)[0][2:] for f in unknown_flags(streamed)} == set(FLINK_RUNNER_OPTIONS)
    assert as_portable_runner_reads(streamed[streamed.index("--runner=PortableRunner"):]) == {
        "checkpointing_interval": 60_000, "checkpointing_mode": "EXACTLY_ONCE",
        "min_pause_between_checkpoints": 30_000, "state_backend": "rocksdb",
        "state_backend_storage_path": "gs://b/ck", "externalized_checkpoints_enabled": True,
        "retain_externalized_checkpoints_on_cancellation": True, "savepoint_path": "gs://b/sp/1"}
    assert {"--checkpointing_interval=60000", "--checkpointing_mode=EXACTLY_ONCE",
            "--state_backend=rocksdb", "--state_backend_storage_path=gs://b/ck",
            "--savepoint_path=gs://b/sp/1"} <= set(streamed)

    dockerfile = (DATAFLOW / "Dockerfile").read_text()
    assert f"ARG BEAM_VERSION={apache_beam.__version__}\n" in dockerfile
    assert "FROM apache/beam_python3.11_sdk:${BEAM_VERSION}" in dockerfile
    dry = subprocess.run(["bash", str(DATAFLOW / "dataflow.sh"), "dry-run", "--input", "in", "--output", "out"],
                         env={**env, "PROJECT": "p-123456", "BUCKET": "gs://b"}, capture_output=True,
                         text=True, check=True).stdout.split()
    assert dry[:5] == ["run", "--input", "in", "--output", "out"] and "--dry_run=True" in dry


# ---- the portable runner (the Job API of Flink's job server) -------------------------------------
TABLES = {"articles": "articles", "claims": "claims", "toll": "toll",
          "dead_letters": "dead_letters", "signatures": f"{STATE_DIR}/{STATE_TABLES['signatures'].name}"}
# Stamped with the clock when a run reads or computes them: the only columns that may differ.
CLOCK_COLUMNS = {"ingested_at", "computed_at", "ingested_date"}


def _rows(con, folder: Path, glob: str) -> tuple[str, int]:
    columns = [r[0] for r in con.execute(
        f"DESCRIBE SELECT * FROM read_parquet('{folder}/{glob}/*/*.parquet', hive_partitioning = true)").fetchall()]
    kept = ", ".join(f'"{c}"' for c in columns if c not in CLOCK_COLUMNS)
    return f"SELECT {kept} FROM read_parquet('{folder}/{glob}/*/*.parquet', hive_partitioning = true)"


def test_the_portable_job_api_writes_the_same_parquet_as_the_local_runner(tmp_path):
    broken = tmp_path / "in" / "empty.html"  # one dead letter, so that table is compared too
    broken.parent.mkdir()
    broken.write_bytes(b"")
    run = ["run", "--input", *(str(EXAMPLES / p) for p in ("*.html", "*.txt", "*.xml")), str(broken),
           "--events", str(EXAMPLES / "events.toml"), "--sources", str(EXAMPLES / "sources.toml"), "-q"]
    local, portable = tmp_path / "local", tmp_path / "portable"
    assert main([*run, "--output", str(local)]) == 0
    # In process: the Python job service (`--job_endpoint=embed`), the SDK harness over the Fn API
    # (LOOPBACK). Flink's job server speaks the same Job API; only the executing engine differs.
    assert main([*run, "--output", str(portable), "--runner=PortableRunner", "--job_endpoint=embed",
                 "--environment_type=LOOPBACK"]) == 0

    def layout(folder):
        return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet")
                      if "dead_letters" not in p.parts)  # its folder is the day of the run

    assert layout(portable) == layout(local) != []
    con = duckdb.connect()
    for table, glob in TABLES.items():
        mine, theirs = _rows(con, local, glob), _rows(con, portable, glob)
        (n,) = con.execute(f"SELECT count(*) FROM ({mine})").fetchall()[0]
        assert n > 0, table
        for a, b in ((mine, theirs), (theirs, mine)):
            assert con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchall() == [(0,)], table
