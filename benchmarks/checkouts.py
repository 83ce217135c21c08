"""Import the tollwatch of another checkout in this process: the benchmarks that alternate two
checkouts (bench_claims_cpu, bench_confirm, bench_signature_cpu, bench_small_steps) run each in a
fresh process that calls ``import_checkout`` first."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

PACKAGES = ("pipeline", "transforms", "schemas", "examples")


def import_checkout(checkout: str, prefix: str = "bench-") -> None:
    """Make `import tollwatch...` read `checkout`: a package folder of links to its packages, put
    ahead of the editable install's finder (which maps only this venv's own checkout)."""
    farm = Path(tempfile.mkdtemp(prefix=prefix))
    (farm / "tollwatch").mkdir()
    (farm / "tollwatch" / "__init__.py").write_text("")
    for name in PACKAGES:
        os.symlink(Path(checkout) / name, farm / "tollwatch" / name)
    sys.path.insert(0, str(farm))


def assert_from(module, checkout: str) -> None:
    "Fail unless `module` was imported from `checkout`."
    assert Path(module.__file__).resolve().is_relative_to(Path(checkout).resolve()), module.__file__
