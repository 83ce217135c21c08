"""Clusters of ids joined pair by pair: the one union-find that duplicate detection, its story
rule and its scoring share."""

from __future__ import annotations

from typing import Iterable


class DisjointSets:
    """Union-find over string ids (path halving). A set's root is its smallest id, so the sets and
    their roots do not depend on the order of the unions; an id is a set of its own until joined.

    >>> sets = DisjointSets(["c"])
    >>> sets.union("b", "c"); sets.union("a", "d")
    >>> sets.find("c"), sets.find("d"), sets.find("e")
    ('b', 'a', 'e')
    """

    def __init__(self, ids: Iterable[str] = ()):
        self.parent: dict[str, str] = {i: i for i in ids}

    def find(self, x: str) -> str:
        parent = self.parent
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, x: str, y: str) -> None:
        rx, ry = self.find(x), self.find(y)
        if rx != ry:
            self.parent[max(rx, ry)] = min(rx, ry)
