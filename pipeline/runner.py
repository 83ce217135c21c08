"""The runner of a local run.

Beam 2.77's DirectRunner first tries Prism, a binary it downloads from GitHub with no timeout; this
machine (and many users' CI) cannot reach it. Without an explicit --runner, tollwatch therefore runs
batch pipelines on Beam's FnApiRunner directly, as the DirectRunner does after its fallback, with
no download. `--direct_num_workers=2 --direct_running_mode=multi_processing` use two cores.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions


def local_runner(options: PipelineOptions):
    """Beam's FnApiRunner, provisioned with the pipeline options as the DirectRunner does."""
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    return fn_runner.FnApiRunner(provision_info=fn_runner.ExtendedProvisionInfo(
        beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)))


def make_pipeline(options: PipelineOptions) -> beam.Pipeline:
    """A Pipeline on the runner the options name, else on the local FnApiRunner."""
    if options.view_as(StandardOptions).runner is None:
        return beam.Pipeline(runner=local_runner(options), options=options)
    return beam.Pipeline(options=options)


def prism_binary() -> "str | None":
    """The Prism binary `make runners` builds into Beam's cache, if it is there."""
    import os

    from apache_beam.runners.portability.prism_runner import PrismJobServer

    path = os.path.join(PrismJobServer.BIN_CACHE, "prism")
    return path if os.access(path, os.X_OK) else None
