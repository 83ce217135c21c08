"""Scoring of extracted casualty claims against hand-checked (gold) claims.

The rule is the one of `gold/README.md`: a predicted claim matches a gold claim when doc, number,
number_high and group agree, with `total` and `unspecified` counted as one group; several mentions of
the same (doc, number, number_high, group) count once. Precision and recall are over non-optional
gold claims; a prediction that matches an optional gold claim counts neither way. Group, source,
scope, qualifier and location are scored as exact-match accuracy over the matched non-optional gold
claims. When several predicted mentions share a gold claim's key, the one whose sentence contains the
gold `quote` is compared (else the first in input order).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

ATTRIBUTES = ("group", "source", "scope", "qualifier", "location")


class Mismatch(NamedTuple):
    """One attribute of a matched claim that differs from the gold value."""

    gold: dict
    predicted: dict
    attribute: str


class ClaimScore(NamedTuple):
    """Precision, recall, F1 and attribute accuracies, with every miss, false claim and mismatch."""

    precision: float
    recall: float
    f1: float
    n_gold: int
    n_predicted: int
    n_matched: int
    accuracy: dict[str, float]
    misses: list[dict]
    false_claims: list[dict]
    mismatches: list[Mismatch]


def _group_key(group: Any) -> Any:
    """The group as used for matching: total and unspecified are one."""
    return "total" if group in ("total", "unspecified") else group


def match_key(claim: dict) -> tuple:
    """(doc, number, number_high, group) with total and unspecified merged."""
    return (claim.get("doc"), claim.get("number"), claim.get("number_high"), _group_key(claim.get("group")))


def _squash(text: Any) -> str:
    return " ".join(str(text or "").split())


def score_claims(gold: Sequence[dict], predicted: Sequence[dict]) -> ClaimScore:
    """Score predicted claims (dicts with doc, number, number_high, group, ...) against gold claims."""
    required: dict[tuple, dict] = {}
    optional: set[tuple] = set()
    for g in gold:
        key = match_key(g)
        if g.get("optional"):
            optional.add(key)
        elif key not in required:
            required[key] = g
    optional -= set(required)
    by_key: dict[tuple, list[dict]] = {}
    for p in predicted:
        by_key.setdefault(match_key(p), []).append(p)
    matched = [k for k in required if k in by_key]
    false_keys = [k for k in by_key if k not in required and k not in optional]
    n_counted = len(matched) + len(false_keys)
    precision = len(matched) / n_counted if n_counted else 1.0
    recall = len(matched) / len(required) if required else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    correct = dict.fromkeys(ATTRIBUTES, 0)
    mismatches: list[Mismatch] = []
    for key in matched:
        g = required[key]
        candidates = by_key[key]
        quote = _squash(g.get("quote"))
        pick = next((p for p in candidates if quote and quote in _squash(p.get("sentence"))), candidates[0])
        for attr in ATTRIBUTES:
            if g.get(attr) == pick.get(attr):
                correct[attr] += 1
            else:
                mismatches.append(Mismatch(g, pick, attr))
    accuracy = {a: (correct[a] / len(matched) if matched else 1.0) for a in ATTRIBUTES}
    misses = [required[k] for k in required if k not in by_key]
    false_claims = [by_key[k][0] for k in false_keys]
    return ClaimScore(precision, recall, f1, len(required), n_counted, len(matched), accuracy, misses,
                      false_claims, mismatches)


def _describe(claim: dict) -> str:
    """A one-line summary of a claim: doc, number, group, measure, qualifier."""
    number = claim.get("number")
    if claim.get("number_high") is not None:
        number = f"{number}-{claim['number_high']}"
    if number is None:
        number = "(vague)"
    return (f"[{claim.get('doc')}] {number} {claim.get('measure', '?')} {claim.get('group')} "
            f"({claim.get('qualifier')}, source={claim.get('source')}, scope={claim.get('scope')}, "
            f"location={claim.get('location')})")


def format_report(score: ClaimScore) -> str:
    """A readable report: scores, accuracies, then every miss, false claim and attribute mismatch."""
    lines = [
        f"precision {score.precision:.3f}   recall {score.recall:.3f}   F1 {score.f1:.3f}   "
        f"(gold {score.n_gold}, predicted {score.n_predicted}, matched {score.n_matched})",
        "attribute accuracy over matched claims: "
        + "   ".join(f"{a} {score.accuracy[a]:.3f}" for a in ATTRIBUTES),
    ]
    lines.append(f"\nmissed gold claims ({len(score.misses)}):")
    for g in score.misses:
        lines.append(f"  - {_describe(g)}")
        lines.append(f"      quote: {_squash(g.get('quote') or g.get('sentence'))}")
    lines.append(f"\nfalse claims ({len(score.false_claims)}):")
    for p in score.false_claims:
        lines.append(f"  - {_describe(p)}")
        lines.append(f"      sentence: {_squash(p.get('sentence'))}")
    lines.append(f"\nattribute mismatches ({len(score.mismatches)}):")
    for m in score.mismatches:
        lines.append(f"  - {m.attribute}: gold {m.gold.get(m.attribute)!r}, predicted {m.predicted.get(m.attribute)!r}"
                     f"   {_describe(m.gold)}")
        lines.append(f"      sentence: {_squash(m.predicted.get('sentence'))}")
    return "\n".join(lines)
