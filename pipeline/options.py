"""Pipeline options of tollwatch, as a Beam PipelineOptions subclass so that every runner (and a
Dataflow template) sees them the same way."""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions

from tollwatch.transforms import toll
from tollwatch.transforms.inputs.feeds import DEFAULT_MAX_FETCH_SECONDS, DEFAULT_POLL_SECONDS
from tollwatch.transforms.inputs.files import DEFAULT_MAX_FILE_BYTES


class TollwatchOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--input", nargs="+", action="extend", default=None, metavar="PATH",
            help="Folders, globs or files to read (local or gs://...). A folder means every file "
                 "below it. Several may be given.")
        parser.add_argument(
            "--output", default=None, metavar="DIR",
            help="Output folder: Hive-partitioned Parquet is written below it.")
        parser.add_argument(
            "--max_file_bytes", "--max-file-bytes", type=int, metavar="N", default=DEFAULT_MAX_FILE_BYTES,
            help="Files larger than this become dead letters instead of being read "
                 f"(default {DEFAULT_MAX_FILE_BYTES} = 20 MiB).")
        parser.add_argument(
            "--parquet_shards", "--parquet-shards", type=int, metavar="N", default=None,
            help="Parquet files per partition folder and window. Default: in a batch run, one per "
                 "worker bundle, written as the records come (no shuffle of whole records); in a "
                 "stream, 1.")
        parser.add_argument(
            "--events", default=None, metavar="FILE",
            help="TOML file of events (id, name, keywords, places, start). Without it every "
                 "article belongs to one event named after the input.")
        parser.add_argument(
            "--sources", nargs="+", action="extend", default=[], metavar="FILE",
            help="TOML files of extra known sources (canonical name, aliases, people).")
        parser.add_argument(
            "--window_hours", "--window-hours", type=float, metavar="N", default=toll.DEFAULT_WINDOW_SECONDS / 3600,
            help="Toll window size in hours (default 24).")
        parser.add_argument(
            "--period_hours", "--period-hours", type=float, metavar="N", default=toll.DEFAULT_PERIOD_SECONDS / 3600,
            help="A toll window starts every this many hours (default 6).")
        parser.add_argument(
            "--as_of_days", "--as-of-days", type=int, metavar="N", default=toll.DEFAULT_AS_OF_DAYS,
            help="Horizon of the cumulative as-of toll series, in days (default 30).")
        parser.add_argument(
            "--allowed_lateness_hours", "--allowed-lateness-hours", type=float, metavar="N",
            default=toll.DEFAULT_ALLOWED_LATENESS_SECONDS / 3600,
            help="How late a copy may arrive and still revise its toll window (default 168 = 7 days).")


class LiveOptions(PipelineOptions):
    """The live sources: used by `tollwatch follow` and by `tollwatch run --streaming`."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--watch", nargs="+", action="extend", default=None, metavar="PATH",
            help="Folders, globs or buckets to watch for new files (local or gs://...).")
        parser.add_argument(
            "--feeds", default=None, metavar="FILE",
            help="TOML file of feeds to poll: [[feed]] tables with url, optional name and "
                 f"poll_seconds (default {DEFAULT_POLL_SECONDS:g}).")
        parser.add_argument(
            "--feed", nargs="+", action="extend", default=None, metavar="URL",
            help="A feed URL to poll (repeatable), every "
                 f"{DEFAULT_POLL_SECONDS:g} s (at the first tick after).")
        parser.add_argument(
            "--allow_private_hosts", "--allow-private-hosts", action="store_true", default=False,
            help="Fetch from hosts that resolve to any private, loopback or link-local address "
                 "(refused by default); prefer --allow-network.")
        parser.add_argument(
            "--allow_network", "--allow-network", action="append", default=None, metavar="CIDR",
            help="A private network fetched from, e.g. 10.1.2.0/24 for one intranet feed "
                 "(repeatable); every other private address stays refused, for the feeds and "
                 "for the pages they link to.")
        parser.add_argument(
            "--fetch_timeout_seconds", "--fetch-timeout-seconds", type=float, metavar="S",
            default=20.0,
            help="Deadline of one request (a feed or a linked page), redirects included "
                 "(default 20).")
        parser.add_argument(
            "--max_fetch_seconds", "--max-fetch-seconds", type=float, metavar="S",
            default=DEFAULT_MAX_FETCH_SECONDS,
            help="The fetching of one tick (one poll of a feed, in a stream) in total: pages not "
                 f"fetched by then wait for the next (default {DEFAULT_MAX_FETCH_SECONDS:g}).")
        parser.add_argument(
            "--tick_seconds", "--tick-seconds", type=float, metavar="S", default=30.0,
            help="How often the folder is listed and due feeds are polled (default 30).")
        parser.add_argument(
            "--write_window_seconds", "--write-window-seconds", type=int, metavar="S", default=60,
            help="Streaming: articles, claims and dead letters are written in windows of this "
                 "many seconds of ingestion time (default 60).")


def unknown_flags(flags: list[str]) -> list[str]:
    """The flags that no PipelineOptions class (tollwatch's or Beam's) defines: typos, usually."""
    from apache_beam.options.pipeline_options import _BeamArgumentParser

    parser = _BeamArgumentParser(allow_abbrev=False)
    for cls in {str(c): c for c in PipelineOptions.__subclasses__()}.values():
        cls._add_argparse_args(parser)
    _, unknown = parser.parse_known_args(flags)
    return [f for f in unknown if f.startswith("-")]
