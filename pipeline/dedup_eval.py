"""Scoring of duplicate clusters against hand-labelled duplicate relations (pure, no Beam).

Labels are the format of `examples/expected/dedup.json` and `gold/seed_dedup.json`: `pairs` of
documents with a `relation` (exact, near, rewrite), `not_duplicates` (hard negatives) and
`within_document` (repeats inside one document; they only mark the document as labelled here).
Documents are named as labels name them: the file name, plus `#entry-id` for a feed entry.

**Predicted pairs** (``predicted_pairs``): the pipeline marks a copy with `copy_of` (its canonical's
doc_id) and `copy_kind`; every article carries its canonical's `story_id`. A cluster is the
articles joined by `copy_of` links or by a shared `story_id`; every two documents of one
cluster are a predicted pair. The pair's kind follows the `copy_of` links between the two: the kinds
on the path from each document up to their nearest common article are combined -- `exact` if every
link is exact, `rewrite` if any link is a rewrite, else `near`. So a copy and its canonical get the
copy's kind; two copies of one canonical get `exact` if both are exact, `rewrite` if either is a
rewrite, else `near`. Two articles joined only by a shared `story_id` (no `copy_of` path, e.g.
copies pointing to canonicals of an earlier run) combine the links of both up to their own roots
(`near` when neither has any). Known limit: an exact copy of a near copy that was repointed to the
near copy's canonical says `exact` though its relation to the canonical is near.

**Scores** (``score_pairs``), over pairs of two *labelled* documents (named anywhere in the labels);
pairs with an unlabelled document are ignored and counted:

- A labelled pair is a duplicate of relation R (exact, near, rewrite). Every other pair of two
  labelled documents is a non-duplicate: listed in `not_duplicates` or simply not related (the
  labels list every pair of each cluster).
- Detection is judged without kinds; kinds only say which pairs a score is about.
  *Recall of K* = labelled pairs of relation K that are predicted in one cluster (whatever the
  predicted kind) / labelled pairs of relation K.
  *Precision of K* = predicted pairs of kind K that are right / predicted pairs of kind K, where
  a pair is right when both documents are in one labelled story: the transitive closure of the
  labelled pairs (labels of real copies list pairs, and a copy of a copy is the same story).
  *Overall*: the same without kinds -- predicted pairs that are labelled duplicates / predicted
  pairs, found labelled pairs / labelled pairs. F1 is the harmonic mean.
- A false pair is a predicted pair that is not right; a missed pair is
  a labelled pair not predicted. Whether the kind is right is reported apart: *kind agreement of
  K* = found pairs of relation K predicted with kind K / found pairs of relation K, with the full
  labelled x predicted confusion table.
- With nothing to score, a ratio is 1.0 (as in claims_eval); the counts shown beside each ratio
  tell an empty score from a perfect one.

>>> labels = Labels({frozenset({"a", "b"}): LabelledPair("a", "b", "near", "")}, {},
...                 frozenset({"a", "b", "c"}))
>>> score = score_pairs(labels, {frozenset({"a", "b"}): "near", frozenset({"b", "c"}): "near"})
>>> score.kinds["near"].recall, score.kinds["near"].precision
(1.0, 0.5)
"""

from __future__ import annotations

import json
import posixpath
from collections import Counter
from itertools import combinations
from typing import Any, Iterable, Mapping, NamedTuple, Optional, Sequence

from tollwatch.transforms.duplicates.clusters import DisjointSets

KINDS = ("exact", "near", "rewrite")

__all__ = [
    "DedupScore", "DocDup", "FalsePair", "KindMismatch", "KindScore", "Labels", "LabelledPair",
    "KINDS", "MissedPair", "combine_kinds", "dup_record", "format_dedup_report", "labels_from_dict",
    "format_relation_table", "labels_from_tsv", "load_labels", "predicted_pairs", "relation_counts",
    "score_pairs", "story_of", "uri_name",
]


# ---- labels ---------------------------------------------------------------------------------------
class LabelledPair(NamedTuple):
    """A labelled duplicate pair."""

    a: str
    b: str
    relation: str
    why: str


class Labels(NamedTuple):
    """Labelled duplicate pairs and hard negatives, keyed by the unordered pair of document names,
    and every document the labels name."""

    pairs: dict[frozenset, LabelledPair]
    not_duplicates: dict[frozenset, str]
    documents: frozenset


def story_of(labels: Labels) -> dict[str, str]:
    """Each labelled document's story: the transitive closure of the labelled duplicate pairs,
    named by its smallest document name."""
    sets = DisjointSets(labels.documents)
    for key in labels.pairs:
        sets.union(*sorted(key))
    return {name: sets.find(name) for name in labels.documents}


def _pair_key(entry: Mapping, where: str) -> frozenset:
    a, b = entry.get("a"), entry.get("b")
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        raise ValueError(f"{where}: a and b must be document names, got {entry!r}")
    if a == b:
        raise ValueError(f"{where}: a document paired with itself: {a!r}")
    return frozenset((a, b))


def labels_from_dict(data: Mapping[str, Any]) -> Labels:
    """Labels from the parsed JSON; ValueError on an unknown relation, a self-pair, or a pair
    labelled twice with different relations or both as duplicate and not."""
    pairs: dict[frozenset, LabelledPair] = {}
    for i, entry in enumerate(data.get("pairs") or []):
        key = _pair_key(entry, f"pairs[{i}]")
        relation = entry.get("relation")
        if relation not in KINDS:
            raise ValueError(f"pairs[{i}]: relation must be one of {KINDS}, got {relation!r}")
        if key in pairs and pairs[key].relation != relation:
            raise ValueError(f"pairs[{i}]: {sorted(key)} labelled both {pairs[key].relation} "
                             f"and {relation}")
        pairs[key] = LabelledPair(entry["a"], entry["b"], relation, entry.get("why", ""))
    negatives: dict[frozenset, str] = {}
    for i, entry in enumerate(data.get("not_duplicates") or []):
        key = _pair_key(entry, f"not_duplicates[{i}]")
        if key in pairs:
            raise ValueError(f"not_duplicates[{i}]: {sorted(key)} is also labelled "
                             f"{pairs[key].relation}")
        negatives[key] = entry.get("why", "")
    documents = {name for key in (*pairs, *negatives) for name in key}
    for entry in data.get("within_document") or []:
        if isinstance(entry.get("doc"), str):
            documents.add(entry["doc"])
    return Labels(pairs, negatives, frozenset(documents))


def load_labels(path) -> Labels:
    """The labels of a dedup JSON file (pairs with relation, not_duplicates, within_document), or
    of a tab-separated file of `doc_a, doc_b, relation, reason` rows (``labels_from_tsv``)."""
    with open(path, encoding="utf-8") as handle:
        if str(path).endswith(".tsv"):
            return labels_from_tsv(handle)
        return labels_from_dict(json.load(handle))


def labels_from_tsv(lines: Iterable[str]) -> Labels:
    """Labels from rows `doc_a, doc_b, relation, reason` under a header (realdev's
    gold/dedup.tsv): relation exact, near or rewrite, or `none` for a hard negative."""
    rows = [line.rstrip("\n").split("\t") for line in lines if line.strip()]
    if not rows or rows[0][:3] != ["doc_a", "doc_b", "relation"]:
        raise ValueError("a dedup TSV starts with the header doc_a, doc_b, relation, reason")
    pairs, negatives = [], []
    for i, row in enumerate(rows[1:], start=2):
        if len(row) < 3:
            raise ValueError(f"line {i}: expected doc_a, doc_b, relation, reason; got {row!r}")
        entry = {"a": row[0], "b": row[1], "why": row[3] if len(row) > 3 else ""}
        if row[2] == "none":
            negatives.append(entry)
        else:
            pairs.append({**entry, "relation": row[2]})
    return labels_from_dict({"pairs": pairs, "not_duplicates": negatives})


# ---- predicted pairs ------------------------------------------------------------------------------
class DocDup(NamedTuple):
    """What scoring needs of an article: its label name and its duplicate fields."""

    name: str
    doc_id: str
    story_id: Optional[str]
    copy_of: Optional[str]
    copy_kind: Optional[str]
    is_canonical: Optional[bool]


def uri_name(uri: str) -> str:
    """The label name of a document read from `uri`: file name, plus `#entry-id` for a feed entry."""
    path, _, entry = uri.partition("#")
    name = posixpath.basename(path.replace("\\", "/"))
    return f"{name}#{entry}" if entry else name


def dup_record(article: Any) -> DocDup:
    """A DocDup from an Article, a DocDup or a mapping (e.g. a Parquet row); the name is the
    `name` field if there is one, else derived from `uri`."""
    if isinstance(article, DocDup):
        return article
    get = article.get if isinstance(article, Mapping) else (lambda k: getattr(article, k, None))
    name = get("name") or uri_name(get("uri") or "")
    if not name or not get("doc_id"):
        raise ValueError(f"an article needs a name (or uri) and a doc_id: {article!r}")
    return DocDup(name, get("doc_id"), get("story_id"), get("copy_of"), get("copy_kind"),
                  get("is_canonical"))


def combine_kinds(kinds: Iterable[Optional[str]]) -> str:
    """The kind of a chain of copy links: exact if all are exact, rewrite if any is, else near."""
    kinds = [k or "near" for k in kinds]
    if "rewrite" in kinds:
        return "rewrite"
    return "exact" if kinds and all(k == "exact" for k in kinds) else "near"


def _path_up(doc_id: str, by_id: Mapping[str, DocDup]) -> list[tuple[str, Optional[str]]]:
    """[(doc_id, kind of its link up)] from `doc_id` along `copy_of` to the root (cycles cut)."""
    path, seen = [], set()
    current: Optional[str] = doc_id
    while current is not None and current not in seen:
        seen.add(current)
        record = by_id.get(current)
        up = record.copy_of if record is not None else None
        path.append((current, record.copy_kind if up is not None else None))
        current = up
    return path


def _pair_kind(a: str, b: str, by_id: Mapping[str, DocDup]) -> str:
    up_a, up_b = _path_up(a, by_id), _path_up(b, by_id)
    index_b = {doc: i for i, (doc, _) in enumerate(up_b)}
    for i, (doc, _) in enumerate(up_a):
        if doc in index_b:  # the nearest common article
            return combine_kinds([k for _, k in up_a[:i]] + [k for _, k in up_b[:index_b[doc]]])
    # Joined by story_id only: combine both chains up to their own roots.
    return combine_kinds([k for _, k in up_a[:-1]] + [k for _, k in up_b[:-1]])


def predicted_pairs(articles: Iterable[Any]) -> dict[frozenset, str]:
    """{frozenset({name_a, name_b}): kind} for every two documents of one predicted cluster (see
    the module docstring for clusters and the kind of a pair). Articles are Articles, DocDups or
    mappings with the duplicate fields and `name` or `uri`."""
    records = [dup_record(a) for a in articles]
    by_id = {r.doc_id: r for r in records}
    if len(by_id) != len(records):
        raise ValueError("two articles share a doc_id")
    sets = DisjointSets()
    find, union = sets.find, sets.union
    for r in records:
        find(r.doc_id)
        if r.copy_of:
            union(r.doc_id, r.copy_of)
        if r.story_id:
            union(r.doc_id, "\x00cluster\x00" + r.story_id)
    clusters: dict[str, list[DocDup]] = {}
    for r in records:
        clusters.setdefault(find(r.doc_id), []).append(r)
    pairs: dict[frozenset, str] = {}
    for members in clusters.values():
        for x, y in combinations(sorted(members, key=lambda r: r.name), 2):
            if x.name == y.name:
                raise ValueError(f"two articles are named {x.name!r}")
            pairs[frozenset((x.name, y.name))] = _pair_kind(x.doc_id, y.doc_id, by_id)
    return pairs


# ---- scores ---------------------------------------------------------------------------------------
class KindScore(NamedTuple):
    """Pairwise scores of one kind (or overall): see the module docstring for the definitions."""

    kind: str
    precision: float
    recall: float
    f1: float
    n_labelled: int       # labelled pairs of this relation
    n_found: int          # ... of them predicted in one cluster, any kind
    n_predicted: int      # predicted pairs of this kind (both documents labelled)
    n_correct: int        # ... of them labelled duplicates, any relation
    n_kind_agree: int     # found pairs of this relation predicted with this kind
    kind_agreement: float


class FalsePair(NamedTuple):
    a: str
    b: str
    predicted: str
    why: str              # the not_duplicates reason, or '' when no relation is labelled


class MissedPair(NamedTuple):
    a: str
    b: str
    relation: str


class KindMismatch(NamedTuple):
    a: str
    b: str
    relation: str
    predicted: str


class DedupScore(NamedTuple):
    """Per-kind and overall scores, the confusion of labelled relation x predicted kind over found
    pairs, and every false, missed and mismatched pair (sorted by names)."""

    kinds: dict[str, KindScore]
    overall: KindScore
    confusion: dict[tuple[str, str], int]
    false_pairs: list[FalsePair]
    missed_pairs: list[MissedPair]
    kind_mismatches: list[KindMismatch]
    n_ignored: int                  # predicted pairs with a document the labels do not name
    missing_documents: list[str]    # labelled documents not among `found_documents`
    # predicted pairs labelled not_duplicates that the closure of the labelled pairs puts in one story
    linked_negatives: list[FalsePair] = []


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def _kind_score(kind: str, n_labelled: int, n_found: int, n_predicted: int, n_correct: int,
                n_agree: int) -> KindScore:
    precision, recall = _ratio(n_correct, n_predicted), _ratio(n_found, n_labelled)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return KindScore(kind, precision, recall, f1, n_labelled, n_found, n_predicted, n_correct,
                     n_agree, _ratio(n_agree, n_found))


def score_pairs(labels: Labels, predicted: Mapping[frozenset, str],
                kinds: Sequence[str] = KINDS,
                found_documents: Optional[Iterable[str]] = None) -> DedupScore:
    """Score predicted pairs ({frozenset of two names: kind}) against the labels. `found_documents`,
    if given, are the names of the documents that were read: labelled ones not among them are
    reported (their pairs count as missed)."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds {sorted(unknown)}; kinds are {KINDS}")
    judged = {key: kind for key, kind in predicted.items() if key <= labels.documents}
    n_ignored = len(predicted) - len(judged)

    def ordered(key: frozenset) -> tuple[str, str]:
        a, b = sorted(key)
        return a, b

    story = story_of(labels)

    def right(key: frozenset) -> bool:
        a, b = key
        return story[a] == story[b]

    false_pairs = [FalsePair(*ordered(key), kind, labels.not_duplicates.get(key, ""))
                   for key, kind in judged.items() if not right(key)]
    # Hard negatives whose documents the closure puts in one story: right by the closure, but
    # listed apart by hand, so they are shown.
    linked_negatives = [FalsePair(*ordered(key), kind, labels.not_duplicates[key])
                        for key, kind in judged.items() if key in labels.not_duplicates and right(key)]
    missed = [MissedPair(*ordered(key), lp.relation)
              for key, lp in labels.pairs.items() if key not in judged]
    confusion = Counter((lp.relation, judged[key]) for key, lp in labels.pairs.items()
                        if key in judged)
    mismatches = [KindMismatch(*ordered(key), lp.relation, judged[key])
                  for key, lp in labels.pairs.items() if key in judged and judged[key] != lp.relation]
    per_kind = {}
    for kind in kinds:
        labelled = [key for key, lp in labels.pairs.items() if lp.relation == kind]
        found = [key for key in labelled if key in judged]
        as_kind = [key for key, k in judged.items() if k == kind]
        per_kind[kind] = _kind_score(
            kind, len(labelled), len(found), len(as_kind),
            sum(right(key) for key in as_kind), sum(judged[key] == kind for key in found))
    n_found = sum(key in judged for key in labels.pairs)
    overall = _kind_score("all", len(labels.pairs), n_found, len(judged),
                          sum(right(key) for key in judged),
                          sum(n for (rel, pred), n in confusion.items() if rel == pred))
    missing = (sorted(labels.documents - set(found_documents))
               if found_documents is not None else [])
    return DedupScore(per_kind, overall, dict(confusion), sorted(false_pairs), sorted(missed),
                      sorted(mismatches), n_ignored, missing, sorted(linked_negatives))


def relation_counts(score: DedupScore) -> dict[str, tuple[int, int]]:
    """(found, labelled) for exact + near copies and rewrites, and (right, predicted) links: the
    figures of the issue's table."""
    lexical = [score.kinds[k] for k in ("exact", "near") if k in score.kinds]
    rewrite = score.kinds.get("rewrite")
    return {"exact + near": (sum(k.n_found for k in lexical), sum(k.n_labelled for k in lexical)),
            "rewrite": (rewrite.n_found, rewrite.n_labelled) if rewrite else (0, 0),
            "links right": (score.overall.n_correct, score.overall.n_predicted)}


def format_relation_table(scores: Mapping[str, DedupScore]) -> str:
    """A Markdown table: per named score (a realdev part, or all parts), exact + near recall,
    rewrite recall and links right, as 'found of total (ratio)'."""
    names = list(scores)
    rows = {name: relation_counts(score) for name, score in scores.items()}
    lines = ["| | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    for what, label in (("exact + near", "exact + near copies"), ("rewrite", "rewrites"),
                        ("links right", "links right (inside a labelled story)")):
        cells = []
        for name in names:
            found, total = rows[name][what]
            cells.append(f"{found} of {total} ({_ratio(found, total):.2f})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _line(s: KindScore) -> str:
    return (f"{s.kind:<8} precision {s.precision:.3f} ({s.n_correct}/{s.n_predicted})   "
            f"recall {s.recall:.3f} ({s.n_found}/{s.n_labelled})   F1 {s.f1:.3f}   "
            f"kind agreement {s.kind_agreement:.3f} ({s.n_kind_agree}/{s.n_found})")


def format_dedup_report(score: DedupScore) -> str:
    """A readable report: per-kind and overall P/R/F1, the confusion of relation x predicted kind,
    then every false pair, missed pair and kind mismatch by document names."""
    lines = ["pairwise scores (precision by predicted kind, recall by labelled relation):"]
    lines += [_line(s) for s in score.kinds.values()]
    lines.append(_line(score.overall))
    if score.confusion:
        predicted_kinds = sorted({p for _, p in score.confusion}, key=_kind_order)
        lines.append("\nfound pairs, labelled relation x predicted kind:")
        lines.append(" " * 10 + "".join(f"{p:>10}" for p in predicted_kinds))
        for rel in sorted({r for r, _ in score.confusion}, key=_kind_order):
            lines.append(f"{rel:<10}" + "".join(f"{score.confusion.get((rel, p), 0):>10}"
                                                for p in predicted_kinds))
    if score.n_ignored:
        lines.append(f"\n{score.n_ignored} predicted pair(s) with an unlabelled document ignored")
    if score.missing_documents:
        lines.append(f"\nlabelled documents not found ({len(score.missing_documents)}): "
                     + ", ".join(score.missing_documents))
    lines.append(f"\nfalse pairs ({len(score.false_pairs)}):")
    for f in score.false_pairs:
        why = f"not duplicates: {f.why}" if f.why else "no relation labelled"
        lines.append(f"  - {f.a}  ~  {f.b}   predicted {f.predicted}; {why}")
    if score.linked_negatives:
        lines.append(f"\nhard negatives linked inside one labelled story ({len(score.linked_negatives)}):")
        for f in score.linked_negatives:
            lines.append(f"  - {f.a}  ~  {f.b}   predicted {f.predicted}; not duplicates: {f.why}")
    lines.append(f"\nmissed pairs ({len(score.missed_pairs)}):")
    for m in score.missed_pairs:
        lines.append(f"  - {m.a}  ~  {m.b}   labelled {m.relation}")
    lines.append(f"\nkind mismatches ({len(score.kind_mismatches)}):")
    for m in score.kind_mismatches:
        lines.append(f"  - {m.a}  ~  {m.b}   labelled {m.relation}, predicted {m.predicted}")
    return "\n".join(lines)


def _kind_order(kind: str) -> tuple[int, str]:
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), kind)
