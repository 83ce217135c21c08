"""deploy/: the Dataflow translation of the job (offline, DataflowRunner's dry run), the flex
template's parameters and entry point, and the portable runner (the Job API that Flink's job server
speaks) against the local runner."""

import importlib.util
import json
import os
import re
import subprocess
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
from tollwatch.transforms.continuation import STATE_DIR, TABLE
from tollwatch.transforms.dedup import Signature

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
    "WriteClaims", "WriteTollWindows", "WriteDeadLetters",
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
    folder = output / STATE_DIR / TABLE / "published_date=2026-05-12"
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
    from tollwatch.pipeline.cli import _feed_source

    options = PipelineOptions(beam_args, watch=["gs://my-bucket/drop/**"], output=str(output),
                              events=str(EXAMPLES / "events.toml"),
                              feed=["https://news.example/valdoria.xml"])
    pipeline = make_pipeline(options)
    build_streaming(pipeline, options.view_as(TollwatchOptions), _feed_source(options))
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
                             "WatchFolder/NewFiles", "ReadFeeds/Poll/ParDo(_PollFeedFn)"}, sorted(stateful)
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


def test_make_dataflow_dry_run_works_as_the_readme_gives_it_without_project_or_bucket():
    env = {k: v for k, v in os.environ.items() if k not in ("PROJECT", "BUCKET")}
    env["TOLLWATCH"] = "echo"
    done = subprocess.run(["bash", str(ROOT / "deploy" / "dataflow" / "dataflow.sh"), "dry-run"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    args = done.stdout.split()
    assert args[:2] == ["run", "--streaming"] and "--output" in args
    assert "--project=dry-run-project" in args and "--dry_run=True" in args


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
    "sources": ("gs://my-bucket/config/sources.toml", "gs://my-bucket/*.toml"),
    "allow_private_hosts": ("false", "yes"),
    "allow_network": ("10.1.2.0/24 fd00::/8", "10.1.2.0"),
    "max_file_bytes": ("20971520", "20MiB"),
    "parquet_shards": ("4", "0"),
    "window_hours": ("24", "-1"),
    "period_hours": ("6", "six"),
    "as_of_days": ("30", "0"),
    "allowed_lateness_hours": ("168", "1e3"),
}



def test_every_template_parameter_is_described_validated_and_known_to_the_cli():
    metadata = json.loads((DATAFLOW / "metadata.json").read_text())
    assert metadata["streaming"] is True
    parameters = {p["name"]: p for p in metadata["parameters"]}
    assert len(parameters) == len(metadata["parameters"])
    assert set(parameters) == set(PARAMETER_VALUES)
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
    with pytest.raises(ValueError):
        template.run_args(["--allow_private_hosts=maybe"], fetch)


# ---- the Flink deployment ------------------------------------------------------------------------
def claim_at(pod: dict, container: dict, path: str) -> str:
    """The persistent volume claim a container of a pod spec mounts at `path`."""
    mount = next(m["name"] for m in container["volumeMounts"] if m["mountPath"] == path)
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount]
    return volume["persistentVolumeClaim"]["claimName"]


def test_the_flink_manifest_image_and_scripts_agree_with_the_pinned_beam_and_each_other():
    import apache_beam
    import yaml
    from apache_beam.options.pipeline_options import FlinkRunnerOptions

    docs = {d["kind"]: d for d in yaml.safe_load_all((ROOT / "deploy" / "flink" / "flinkdeployment.yaml").read_text())}
    flink, server = docs["FlinkDeployment"]["spec"], docs["Deployment"]["spec"]["template"]["spec"]
    (job_server,) = server["containers"]
    found = re.fullmatch(r"apache/beam_flink(\d+\.\d+)_job_server:(\S+)", job_server["image"])
    assert found and found.group(2) == apache_beam.__version__
    assert found.group(1) in FlinkRunnerOptions.PUBLISHED_FLINK_VERSIONS
    assert flink["flinkVersion"] == "v" + found.group(1).replace(".", "_")
    assert flink["image"].startswith(f"flink:{found.group(1)}")
    assert f"--flink-master={docs['FlinkDeployment']['metadata']['name']}-rest:8081" in job_server["args"]
    # The job server stages artifacts where the TaskManagers read them: one claim, one path.
    artifacts = next(a.split("=", 1)[1] for a in job_server["args"] if a.startswith("--artifacts-dir="))
    pod = flink["taskManager"]["podTemplate"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}
    assert claim_at(pod, containers["flink-main-container"], artifacts) == claim_at(
        server, job_server, artifacts) == docs["PersistentVolumeClaim"]["metadata"]["name"]
    pool = containers["beam-worker-pool"]
    assert pool["args"] == ["--worker_pool"]
    (port,) = [p["containerPort"] for p in pool["ports"]]

    env = {**os.environ, "TOLLWATCH": "echo"}
    submitted = subprocess.run(["bash", str(ROOT / "deploy" / "flink" / "submit.sh"), "--input", "gs://b/in",
                                "--output", "gs://b/out"], env=env, capture_output=True, text=True,
                               check=True).stdout.split()
    assert submitted[:5] == ["run", "--input", "gs://b/in", "--output", "gs://b/out"]
    assert unknown_flags(submitted[5:]) == []
    assert f"--environment_config=localhost:{port}" in submitted
    assert "--environment_type=EXTERNAL" in submitted and "--runner=PortableRunner" in submitted

    dockerfile = (DATAFLOW / "Dockerfile").read_text()
    assert f"ARG BEAM_VERSION={apache_beam.__version__}\n" in dockerfile
    assert "FROM apache/beam_python3.11_sdk:${BEAM_VERSION}" in dockerfile
    dry = subprocess.run(["bash", str(DATAFLOW / "dataflow.sh"), "dry-run", "--input", "in", "--output", "out"],
                         env={**env, "PROJECT": "p-123456", "BUCKET": "gs://b"}, capture_output=True,
                         text=True, check=True).stdout.split()
    assert dry[:5] == ["run", "--input", "in", "--output", "out"] and "--dry_run=True" in dry


# ---- the portable runner (the Job API of Flink's job server) -------------------------------------
TABLES = {"articles": "articles", "claims": "claims", "toll": "toll",
          "dead_letters": "dead_letters", "signatures": f"{STATE_DIR}/{TABLE}"}
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
