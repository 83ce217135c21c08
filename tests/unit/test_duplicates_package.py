"""The duplicates package reads top-down: its modules form layers (each imports only the ones above
it, in the order the package docstring lists them), each says its job, and the records it passes
across the runner or stores are the schemas' (issue 22)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import tollwatch.transforms.duplicates as duplicates

PACKAGE = Path(duplicates.__file__).parent
LAYERS = tuple(re.findall(r"^- ``(\w+)``:", duplicates.__doc__, re.M))


def sibling_imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    prefix = "tollwatch.transforms.duplicates."
    return {node.module[len(prefix):].split(".")[0] for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(prefix)}


def test_the_docstring_lists_every_module_once():
    assert sorted(LAYERS) == sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    assert len(set(LAYERS)) == len(LAYERS)


def test_each_module_imports_only_the_layers_above_it():
    for i, module in enumerate(LAYERS):
        assert sibling_imports(module) <= set(LAYERS[:i]), module


def test_each_module_says_its_job():
    for module in LAYERS:
        assert importlib.import_module(f"tollwatch.transforms.duplicates.{module}").__doc__, module


def test_no_record_type_is_defined_in_the_package_but_keyed_state():
    "Records that cross the runner or are stored live in schemas/; only per-key state stays here."
    for module in LAYERS:
        tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
        records = [node.name for node in tree.body if isinstance(node, ast.ClassDef)
                   and any(getattr(b, "id", None) == "NamedTuple" for b in node.bases)]
        allowed = {"streaming": {"HeldSignature", "DecidedArticle"}, "similarity": {"Overlap"},
                   "settings": {"NearOptions"}, "alignment": {"Outline"}}.get(module, set())
        assert set(records) <= allowed, (module, records)
