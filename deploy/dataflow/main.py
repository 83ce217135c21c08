"""Entry point of the Dataflow flex template: tollwatch's streaming job,
`tollwatch run --streaming --feeds FEEDS.toml --watch gs://bucket/drop --output gs://bucket/out`.

The template launcher runs `python main.py --name=value ...` with the template's parameters
(metadata.json) and Dataflow's own options (project, region, staging and temp locations, job name,
the worker image). This turns them into a `tollwatch run` command line:

- a configuration file given as `gs://...` (`feeds`, `events`, `sources`: files separated by
  spaces) is copied to a local file first: tollwatch reads those when it builds the pipeline, here
  on the launcher, as local files;
- `allow_private_hosts=true|false` becomes the flag `--allow-private-hosts` or nothing (a template
  parameter always has a value; the CLI's flag has none);
- `feed` and `allow_network` (a template parameter is given once) hold URLs or networks separated
  by spaces: one `--feed` or `--allow-network` each;
- the job is a streaming job on Dataflow (`--streaming`, `--runner=DataflowRunner` unless given).
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Callable, Sequence

CONFIG_FILES = ("feeds", "events", "sources")
BOOLEAN_FLAGS = {"allow_private_hosts": "--allow-private-hosts"}
REPEATED = {"feed": "--feed", "allow_network": "--allow-network"}


def fetch_to_local(path: str) -> str:
    """A local copy of a file on any filesystem Beam knows (gs://...); returns its path."""
    from apache_beam.io.filesystems import FileSystems

    suffix = os.path.splitext(path)[1]
    with FileSystems.open(path) as source, tempfile.NamedTemporaryFile(
            "wb", suffix=suffix, prefix="tollwatch-", delete=False) as local:
        local.write(source.read())
    return local.name


def _split(arg: str) -> tuple[str, str | None]:
    name, eq, value = arg[2:].partition("=")
    return name.replace("-", "_"), (value if eq else None)


def run_args(argv: Sequence[str], fetch: Callable[[str], str] = fetch_to_local) -> list[str]:
    """The `tollwatch` command line (from `run` on) for the launcher's arguments."""
    out = ["run", "--streaming"]
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("--"):
            out.append(arg)
            continue
        name, value = _split(arg)
        if value is None and i < len(args) and not args[i].startswith("--") and (
                name in CONFIG_FILES or name in BOOLEAN_FLAGS or name in REPEATED):
            value = args[i]
            i += 1
        if name in BOOLEAN_FLAGS:
            if value is None or value.strip().lower() in ("true", "1", "yes"):
                out.append(BOOLEAN_FLAGS[name])
            elif value.strip().lower() not in ("false", "0", "no", ""):
                raise ValueError(f"--{name} must be true or false, got {value!r}")
        elif name in REPEATED and value is not None:
            for item in value.split():
                out += [REPEATED[name], item]
        elif name in CONFIG_FILES and value is not None:
            for item in value.split():  # `sources` may name several files
                out += [f"--{name}", fetch(item) if "://" in item else item]
        elif name == "streaming":
            continue  # always streaming; the launcher may pass --streaming=true
        else:
            out.append(arg)
    if not any(a == "--runner" or a.startswith("--runner=") for a in out):
        out.append("--runner=DataflowRunner")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    from tollwatch.pipeline.cli import main as tollwatch

    return tollwatch(run_args(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
