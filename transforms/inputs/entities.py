"""Feed documents feedparser must not see: entity declarations that would load something or expand
without bound. Checked before parsing, for feed files (`extract.extract_feed`) and polled feeds
(`feeds.parse_feed`) alike; its own module so that both import it and neither imports the other.
"""

from __future__ import annotations

import re

MAX_ENTITY_EXPANSION = 1_000_000       # characters that declared entities may add to a document


class FeedError(Exception):
    """A feed document that cannot be read; `kind` becomes the DeadLetter's error_type."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


_FIRST_ELEMENT = re.compile(rb"<\w")
_ENTITY_DECL = re.compile(
    rb"<!ENTITY\s+(%\s+)?([^\s\"'>%]+)\s+(?:(SYSTEM|PUBLIC)\b|\"([^\"]*)\"|'([^']*)')")
_NAMED_REF = re.compile(rb"&[^#\s;&]+;")


def check_entities(data: bytes) -> None:
    """Raise FeedError for entity declarations that feedparser should not see: external or
    parameter entities, entities built from other entities (the "billion laughs") and entities
    whose uses would add more than MAX_ENTITY_EXPANSION characters.

    feedparser keeps only entities whose value holds no '&' and expands them without limit in its
    lenient parser: one 100 kB entity used 20,000 times makes a 2 GB title. `data` must be the
    UTF-8 text feedparser parses (its convert_to_utf8 output).
    """
    start = _FIRST_ELEMENT.search(data)
    head, body = (data[:start.start()], data[start.start():]) if start else (data, b"")
    declared = head.count(b"<!ENTITY")
    if not declared:
        return
    found = list(_ENTITY_DECL.finditer(head))
    if len(found) != declared:
        raise FeedError("entity_declaration", "an entity declaration that cannot be checked")
    expansion = 0
    for decl in found:
        name = decl.group(2).decode("utf-8", "replace")
        if decl.group(3):
            raise FeedError("external_entity", f"external entity {name!r} ({decl.group(3).decode()})")
        if decl.group(1):
            raise FeedError("entity_expansion", f"parameter entity {name!r}")
        value = decl.group(4) if decl.group(4) is not None else decl.group(5)
        if _NAMED_REF.search(value):
            raise FeedError("entity_expansion", f"entity {name!r} is built from other entities")
        expansion += len(value) * body.count(b"&" + decl.group(2) + b";")
    if expansion > MAX_ENTITY_EXPANSION:
        raise FeedError("entity_expansion",
                        f"declared entities would add {expansion} characters "
                        f"(> {MAX_ENTITY_EXPANSION})")
