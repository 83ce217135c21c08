"""The claims package: its modules form layers (each imports only the ones above it) and the package
keeps the names the rest of tollwatch imports from it."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import tollwatch.transforms.claims as claims

LAYERS = ("vocabulary", "patterns", "numbers", "sources", "sentences", "grammar", "attribution", "periods",
          "extractor", "stage")
PACKAGE = Path(claims.__file__).parent


def sibling_imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 0 and (node.module or "").startswith("tollwatch.transforms.claims."):
                found.add(node.module.split(".")[3])
    return found


def test_each_module_imports_only_the_layers_above_it():
    assert sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__") == sorted(LAYERS)
    for i, module in enumerate(LAYERS):
        assert sibling_imports(module) <= set(LAYERS[:i]), module


def test_each_module_says_its_job():
    for module in LAYERS:
        assert importlib.import_module(f"tollwatch.transforms.claims.{module}").__doc__, module


def test_the_package_keeps_the_names_imported_from_it():
    names = ("ClaimMention", "ExtractClaims", "ExtractClaimsFn", "MAX_FIGURE", "ParsedNumber", "SourceEntry",
             "SourceTable", "UnmarkNewFigures", "article_claims", "claim_id", "claim_key", "extract_claims",
             "load_sources", "parse_number", "read_source_files", "sources_from_texts", "to_claim",
             "unmark_new_figures", "values", "_sources_from_texts")
    assert [n for n in names if not hasattr(claims, n)] == []
    assert set(claims.__all__) <= set(dir(claims))
