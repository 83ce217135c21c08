"""Pipeline options of tollwatch, as a Beam PipelineOptions subclass so that every runner (and a
Dataflow template) sees them the same way."""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions

from tollwatch.transforms.ingest import DEFAULT_MAX_FILE_BYTES


class TollwatchOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--input", nargs="+", action="extend", default=None,
            help="Folders, globs or files to read (local or gs://...). A folder means every file "
                 "below it. Several may be given.")
        parser.add_argument(
            "--output", default=None,
            help="Output folder: Hive-partitioned Parquet is written below it.")
        parser.add_argument(
            "--max_file_bytes", type=int, default=DEFAULT_MAX_FILE_BYTES,
            help="Files larger than this become dead letters instead of being read "
                 f"(default {DEFAULT_MAX_FILE_BYTES} = 20 MiB).")
        parser.add_argument(
            "--parquet_shards", type=int, default=1,
            help="Parquet files per partition folder and window (default 1).")
