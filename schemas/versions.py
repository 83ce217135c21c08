"""The stored format's versions and what changed between them: the one place that knows the names
earlier versions of tollwatch wrote, so that their output folders can be upgraded.

Every Parquet file tollwatch writes carries `FORMAT_VERSION` in its key-value metadata
(`VERSION_KEY`; `arrow.arrow_schema` puts it there). A file without the key was written before
the key existed, or by another tool from tollwatch's rows (DuckDB's `COPY`, a compaction): its
version is told by its columns. `tollwatch upgrade OUT` (pipeline/upgrade.py) rewrites older files;
the commands that read OUT refuse them, naming that command, rather than read a renamed column as
missing (a column of an older file that the record no longer has reads as null, silently). A file
of a newer format (written by a later tollwatch) is refused too: this version cannot know what
changed in it, and writing its own format beside it would mix two formats in one table.
"""

from __future__ import annotations

import pyarrow as pa

FORMAT_VERSION = 2
VERSION_KEY = b"tollwatch.format"
# A file without the key whose columns carry none of an older format's names: its columns are the
# ones of the first format that had the key.
UNMARKED_VERSION = 2

# Format N -> N + 1: the columns renamed, by table (`OUT/<table>/`, `OUT/_state/<table>/`).
RENAMED: dict[int, dict[str, dict[str, str]]] = {
    # Issue 22, one word per concept (ARCHITECTURE.md, glossary): copy, canonical, story.
    1: {
        "articles": {"dup_cluster_id": "story_id", "dup_of": "copy_of", "dup_kind": "copy_kind",
                     "dup_similarity": "copy_similarity"},
        "claims": {"origin_doc_id": "canonical_id"},
        "signatures": {"cluster_id": "story_id"},
    },
}


def version_metadata() -> dict[bytes, bytes]:
    """The key-value metadata a file of the current format carries."""
    return {VERSION_KEY: str(FORMAT_VERSION).encode()}


def file_version(table: str, schema: pa.Schema) -> int:
    """The format of a file of `table` with this (Arrow) schema: its key, else told by its columns."""
    marked = (schema.metadata or {}).get(VERSION_KEY)
    if marked is not None:
        try:
            return int(marked)
        except ValueError:
            raise ValueError(f"not a tollwatch format version: {marked!r}") from None
    names = set(schema.names)
    for version in sorted(RENAMED):
        if names & set(RENAMED[version].get(table, {})):
            return version
    return UNMARKED_VERSION


def renames(table: str, version: int) -> dict[str, str]:
    """Old name -> current name of the columns of `table` renamed since format `version`."""
    mapping: dict[str, str] = {}
    for step in range(version, FORMAT_VERSION):
        for old, new in RENAMED.get(step, {}).get(table, {}).items():
            for first, current in list(mapping.items()):
                if current == old:
                    mapping[first] = new
            mapping.setdefault(old, new)
    return mapping


def needs_upgrade(table: str, version: int) -> bool:
    """Whether a format-`version` file of `table` must be rewritten to be read today: a file of an
    older format whose table no format change touched reads the same (it is left as it is)."""
    return version < FORMAT_VERSION and bool(renames(table, version))


def upgraded_schema(table: str, schema: pa.Schema, version: int) -> pa.Schema:
    """`schema` of a format-`version` file of `table` with today's names and version key."""
    mapping = renames(table, version)
    return pa.schema([f.with_name(mapping.get(f.name, f.name)) for f in schema],
                     metadata={**(schema.metadata or {}), **version_metadata()})


def older_message(where: str, count: int, oldest: int) -> str:
    """What a command says when `where` holds files of an older format, and the command to run."""
    example = ", ".join(f"{old} -> {new}" for old, new in
                        list(RENAMED.get(oldest, {}).get("articles", {}).items())[:2])
    return (f"{where} holds {count} file(s) written by an earlier tollwatch (format {oldest}; "
            f"this one reads format {FORMAT_VERSION}, whose columns are renamed: {example}, ...). "
            f"Upgrade them first: tollwatch upgrade {where}  (--dry-run lists what it changes)")


def newer_message(where: str, count: int, newest: int) -> str:
    """What a command says when `where` holds files of a format newer than this tollwatch reads."""
    return (f"{where} holds {count} file(s) written by a newer tollwatch (format {newest}; this "
            f"one reads format {FORMAT_VERSION}, upgrades older ones, and cannot tell what changed "
            f"since). "
            f"Upgrade tollwatch to a version that reads format {newest}; this one neither reads "
            f"this output nor writes into it")
