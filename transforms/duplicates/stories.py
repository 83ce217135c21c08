"""Stories: which article of a set of linked copies is the canonical, and what each copy points to.

The canonical order (``canonical_key``) is the one definition of "which article came first" that
exact copies, near copies, rewrites and streaming all use. Confirmed links become stories:
``resolve_clusters`` in batch (a story is a connected set of links, a round-up page does not merge
two), ``star_clusters`` for links that do not compose (rewrites), ``assign_on_arrival`` in
streaming (decided once, never revised); ``apply_assignment`` writes the result into an Article's
duplicate fields. (Star clusters around the canonical, used before for near copies too, split off
29% of the labelled copy pairs of the test set: with dates of a day's resolution the longest copy
of the day -- a page embedding the story -- became canonical, and copies never compared with it
stayed apart.)"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Mapping, Optional

from tollwatch.schemas.duplicates import Assignment, DocRef, Link
from tollwatch.schemas.records import Article
from tollwatch.transforms.duplicates.clusters import DisjointSets
from tollwatch.transforms.duplicates.settings import CONTAINMENT


def canonical_key(doc) -> tuple:
    """Sort key of the canonical order, the one order every duplicate decision uses: earliest
    published, then the longest, then the smallest doc_id. Takes an Article (its text's length) or
    any record with ``published_at``, ``length`` and ``doc_id`` (Signature, DocRef, ArticleDigest,
    StoryTraits)."""
    length = doc.length if hasattr(doc, "length") else len(doc.text)
    return (doc.published_at, -length, doc.doc_id)


def choose_canonical(a, b):
    "Return whichever of two articles (anything with published_at, length, doc_id) is canonical."
    return a if canonical_key(a) <= canonical_key(b) else b


def _cluster_of(doc: DocRef) -> str:
    return doc.story_id or doc.doc_id


def _covers_both(link: Link, containment: float = CONTAINMENT) -> bool:
    """Whether the shared shingles make up most of the longer text too, not only of the shorter.
    From J = s / |A u B| and c = s / |A| (A the smaller set): s / |B| = 1 / (1/J + 1 - 1/c)."""
    if link.jaccard <= 0 or link.containment <= 0:
        return False
    return 1.0 / (1.0 / link.jaccard + 1.0 - 1.0 / link.containment) >= containment


def _link_graph(links: Iterable[Link]) -> tuple[dict[str, DocRef], dict[str, dict[str, float]],
                                                 list[tuple[str, str]], dict[str, set[str]]]:
    """The articles of a set of links, the best similarity of each linked pair, the pairs that are
    mostly each other ("mutual"), and for each article the shorter articles it contains."""
    refs: dict[str, DocRef] = {}
    similarity: dict[str, dict[str, float]] = defaultdict(dict)
    mutual: list[tuple[str, str]] = []
    contains: dict[str, set[str]] = defaultdict(set)
    for link in links:
        a, b = link.doc, link.other
        if a.doc_id == b.doc_id:
            continue
        for doc in (a, b):
            known = refs.get(doc.doc_id)
            if known is None or canonical_key(doc) < canonical_key(known):
                refs[doc.doc_id] = doc
        best = max(similarity[a.doc_id].get(b.doc_id, 0.0), link.similarity)
        similarity[a.doc_id][b.doc_id] = similarity[b.doc_id][a.doc_id] = best
        # A link by sentence alignment is between stories told alike (a rewrite, a write-through,
        # a trimmed copy), not a passage inside a longer page: it joins the two.
        if link.kind != "near" or _covers_both(link):
            mutual.append((a.doc_id, b.doc_id))
        else:  # the shorter text is (mostly) inside the longer, which has more of its own
            small, large = sorted((a, b), key=lambda d: (d.length, d.doc_id))
            contains[large.doc_id].add(small.doc_id)
    return refs, similarity, mutual, contains


def resolve_clusters(links: Iterable[Link]) -> dict[str, Assignment]:
    """Return the Assignment of every article in a set of confirmed links, deterministically.

    A cluster is a connected set of links, so a copy that was only compared with other copies
    (a trimmed copy and a copy with an intro added share less with each other than with the story)
    still joins the story. One kind of link does not connect: a page that contains articles of two
    or more clusters (a round-up, a live page quoting several wire stories) joins the earliest of
    them and does not merge them. Only a pair whose shared text is most of both texts ("mutual",
    e.g. a copy with typos) is joined unconditionally: two disjoint stories cannot each be most of
    one page. Containers are taken from the shortest, so a trimmed copy inside a longer copy is
    joined before the full story is looked at.

    The canonical of a cluster is its first article in canonical order; every other article becomes
    its copy, with its similarity to the canonical if they were compared, else its best similarity
    to a member of the cluster (the link that brought it in).
    """
    refs, similarity, mutual, contains = _link_graph(links)
    sets = DisjointSets(refs)
    find, union = sets.find, sets.union

    for a, b in mutual:
        union(a, b)
    undecided: list[str] = []
    for container in sorted(contains, key=lambda d: (refs[d].length, d)):
        foreign = {find(d) for d in contains[container]} - {find(container)}
        if len(foreign) <= 1:
            for d in contains[container]:
                union(container, d)
        else:
            undecided.append(container)

    def members_by_root() -> dict[str, list[DocRef]]:
        groups: dict[str, list[DocRef]] = defaultdict(list)
        for doc in refs.values():
            groups[find(doc.doc_id)].append(doc)
        return groups

    for container in undecided:  # joins the cluster of the earliest canonical it contains
        groups = members_by_root()
        roots = {find(d) for d in contains[container]} - {find(container)}
        if roots:
            first = min(roots, key=lambda r: min(canonical_key(m) for m in groups[r]))
            union(container, first)

    out: dict[str, Assignment] = {}
    for members in members_by_root().values():
        centre = min(members, key=canonical_key)
        out[centre.doc_id] = Assignment(centre.doc_id, _cluster_of(centre), None, None)
        ids = {m.doc_id for m in members}
        for doc in members:
            if doc is centre:
                continue
            sims = similarity[doc.doc_id]
            figure = sims.get(centre.doc_id)
            if figure is None:
                figure = max(s for other, s in sims.items() if other in ids)
            out[doc.doc_id] = Assignment(doc.doc_id, _cluster_of(centre), centre.doc_id, figure)
    return out


def star_clusters(links: Iterable[Link]) -> dict[str, Assignment]:
    """Return Assignments that never chain: articles are taken in canonical order, and each becomes
    a copy of the first earlier canonical it is directly linked to, or a canonical itself. For
    links that do not compose (a rewrite of a rewrite need not say what the story says)."""
    refs, similarity, _, _ = _link_graph(links)
    canonical_of: dict[str, str] = {}
    out: dict[str, Assignment] = {}
    for doc in sorted(refs.values(), key=canonical_key):
        centres = [refs[o] for o in similarity[doc.doc_id] if canonical_of.get(o) == o]
        if centres:
            centre = min(centres, key=canonical_key)
            canonical_of[doc.doc_id] = centre.doc_id
            out[doc.doc_id] = Assignment(doc.doc_id, _cluster_of(centre), centre.doc_id,
                                         similarity[doc.doc_id][centre.doc_id])
        else:
            canonical_of[doc.doc_id] = doc.doc_id
            out[doc.doc_id] = Assignment(doc.doc_id, _cluster_of(doc), None, None)
    return out


def assign_on_arrival(doc: DocRef, links: Iterable[Link], canonical_of: Mapping[str, str],
                      cluster_of: Optional[Mapping[str, str]] = None) -> Assignment:
    """Return the Assignment of a newly arrived article from its links to earlier arrivals.

    ``canonical_of`` maps the doc_id of articles already decided to their canonical's doc_id (an
    article missing from it had no partner when it was decided, so it is a canonical) and
    ``cluster_of`` to their cluster id. The new article becomes a copy of the first (canonical
    order) canonical it is linked to; linked only to copies, it joins the cluster of the first of
    them, as ``resolve_clusters`` chains in batch. Decisions are final, so nothing is merged.
    """
    cluster_of = cluster_of or {}
    others = [l for l in links if l.other.doc_id != doc.doc_id]
    centres = [l for l in others
               if canonical_of.get(l.other.doc_id, l.other.doc_id) == l.other.doc_id]
    if centres:
        best = min(centres, key=lambda l: canonical_key(l.other))
        return Assignment(doc.doc_id, cluster_of.get(best.other.doc_id, _cluster_of(best.other)),
                          best.other.doc_id, best.similarity)
    if others:
        best = min(others, key=lambda l: canonical_key(l.other))
        canonical = canonical_of[best.other.doc_id]
        return Assignment(doc.doc_id, cluster_of.get(best.other.doc_id, canonical), canonical,
                          best.similarity)
    return Assignment(doc.doc_id, _cluster_of(doc), None, None)


def apply_assignment(article: Article, assignment: Optional[Assignment]) -> Article:
    "Return the article with its duplicate fields set from its Assignment (None: alone)."
    if assignment is None or assignment.copy_of is None:
        cluster = assignment.story_id if assignment else (article.story_id or article.doc_id)
        return article._replace(story_id=cluster, copy_of=None, copy_kind=None,
                                copy_similarity=None, is_canonical=True)
    return article._replace(story_id=assignment.story_id, copy_of=assignment.copy_of,
                            copy_kind="near", copy_similarity=round(float(assignment.similarity), 4),
                            is_canonical=False)
