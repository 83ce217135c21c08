"""Packaging: the wheel and the sdist hold everything the pipeline needs, and the installed wheel
runs `tollwatch run` and `tollwatch demo` from outside the source tree."""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import duckdb
import pytest

from support import ROOT

# Source folder -> package, as pyproject.toml maps them.
PACKAGES = {"pipeline": "tollwatch/pipeline", "transforms": "tollwatch/transforms",
            "schemas": "tollwatch/schemas", "examples": "tollwatch/examples"}


def _project_files(root: Path) -> list[str]:
    """The project's files under version control (what a fresh clone has)."""
    listed = subprocess.run(["git", "-C", str(root), "ls-files", "--cached"],
                            capture_output=True, text=True, check=True)
    return [f for f in listed.stdout.splitlines() if (root / f).is_file()]


def needed_files(src: Path) -> set[str]:
    """Source-tree paths the installed package must hold: every module, the known-sources table,
    the DuckDB views, and the example corpus of `tollwatch demo` (with its labels)."""
    needed = set()
    for folder in PACKAGES:
        for path in (src / folder).rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(src).as_posix()
            if (path.suffix == ".py" or rel.startswith("transforms/data/")
                    or (folder == "schemas" and path.suffix == ".sql") or folder == "examples"):
                needed.add(rel)
    return needed


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """(source copy, wheel, sdist) built by `python -m build` from a clean copy of the project:
    sdist first, then the wheel from the unpacked sdist, so the wheel proves the sdist complete."""
    work = tmp_path_factory.mktemp("packaging")
    src = work / "src"
    for rel in _project_files(ROOT):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    out = work / "dist"
    # --no-isolation: setuptools and build come from the dev extra, no download at test time.
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
                   check=True, capture_output=True, text=True)
    (wheel,) = out.glob("tollwatch-*.whl")
    (sdist,) = out.glob("tollwatch-*.tar.gz")
    return src, wheel, sdist


def test_the_wheel_and_the_sdist_hold_every_module_and_data_file(dists):
    src, wheel, sdist = dists
    needed = needed_files(src)
    assert {"transforms/data/sources.toml", "schemas/views.sql", "examples/events.toml",
            "examples/expected/claims.jsonl", "examples/feed_valdoria_today.xml"} <= needed
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    installed = {PACKAGES[rel.split("/", 1)[0]] + "/" + rel.split("/", 1)[1] for rel in needed}
    assert sorted(installed - in_wheel) == []
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert sorted((needed | {"pyproject.toml", "README.md"}) - in_sdist) == []


def _venv_with_wheel(wheel: Path, venv: Path) -> Path:
    """A fresh venv holding the wheel; the dependencies come from this (dev) environment's
    site-packages through a .pth file -- which adds the folder only, so the dev environment's
    editable install of tollwatch (a finder started by its own .pth there) stays out."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "tollwatch_dev_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return site


def test_the_installed_wheel_runs_the_pipeline_and_the_demo_outside_the_source_tree(dists, tmp_path):
    _, wheel, _ = dists
    site = _venv_with_wheel(wheel, tmp_path / "venv")
    bin_dir = tmp_path / "venv" / "bin"
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}

    def run(*command):
        return subprocess.run([str(c) for c in command], cwd=work, env=env, capture_output=True,
                              text=True, check=True).stdout

    where = run(bin_dir / "python", "-c", "import tollwatch, tollwatch.pipeline.cli as cli; "
                "print(cli.__file__); print(*tollwatch.__path__, sep='\\n')").split()
    assert where and all(Path(p).is_relative_to(site) for p in where), where

    def read(printed: str) -> tuple[int, int, int]:
        """(files, articles, dead letters) of a run's summary line."""
        found = re.search(r"Read (\d+) file\(s\) in [\d.]+ s: (\d+) article\(s\).*, (\d+) dead letter",
                          printed)
        assert found, printed
        return int(found.group(1)), int(found.group(2)), int(found.group(3))

    con = duckdb.connect()
    count = lambda output, table: con.execute(  # noqa: E731
        f"SELECT count(*) FROM read_parquet('{work}/{output}/{table}/*/*.parquet', hive_partitioning = true)"
    ).fetchall()[0][0]
    # `run` on one installed example (the demo below runs the same pipeline over all of them).
    examples = site / "tollwatch" / "examples"
    printed = run(bin_dir / "tollwatch", "run", "--input", examples / "day2_vocr_update.txt",
                  "--events", examples / "events.toml", "--sources", examples / "sources.toml",
                  "--output", "out")
    assert read(printed) == (1, 1, 0)
    assert count("out", "articles") == 1 and count("out", "claims") > 0

    printed = run(bin_dir / "tollwatch", "demo", "-q")
    assert "Toll as known now" in printed
    assert (work / "demo-output" / "toll.png").stat().st_size > 10_000
    n_files = sum(len(list(examples.glob(p))) for p in ("*.html", "*.txt", "*.xml"))
    files, articles, dead_letters = read(printed)
    assert files == n_files and dead_letters == 0
    assert count("demo-output", "articles") == articles > n_files // 2
    assert count("demo-output", "claims") > 100 and count("demo-output", "toll") > 0
