"""Scoring of extracted casualty claims against hand-checked (gold) claims.

The rule is the one of `gold/README.md`: a predicted claim matches a gold claim when doc, number,
number_high and group agree, with `total` and `unspecified` counted as one group; several mentions of
the same (doc, number, number_high, group) count once. Precision and recall are over non-optional
gold claims; a prediction that matches an optional gold claim counts neither way. Group, source,
scope, qualifier and location are scored as exact-match accuracy over the matched non-optional gold
claims, except the source, which follows realdev's name rule (`same_source`). When several
predicted mentions share a gold claim's key, the one whose sentence contains the gold `quote` is
compared (else the first in input order).

`evaluate` breaks the score down per measure, per group and per source, and counts the labelled
non-claims (`nonclaims.jsonl`: doc, quote) that the extractor took for claims.
"""

from __future__ import annotations

import re
from typing import Any, Callable, NamedTuple, Sequence

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
            if _SAME[attr](g.get(attr), pick.get(attr)):
                correct[attr] += 1
            else:
                mismatches.append(Mismatch(g, pick, attr))
    accuracy = {a: (correct[a] / len(matched) if matched else 1.0) for a in ATTRIBUTES}
    misses = [required[k] for k in required if k not in by_key]
    false_claims = [by_key[k][0] for k in false_keys]
    return ClaimScore(precision, recall, f1, len(required), n_counted, len(matched), accuracy, misses,
                      false_claims, mismatches)


_SAME: dict[str, Callable[[Any, Any], bool]] = {a: (lambda x, y: x == y) for a in ATTRIBUTES}
_SAME["source"] = lambda g, p: same_source(g, p)


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


# ------------------------------------------------------------------------------ realdev's source rule
_NAME_STOP_WORDS = frozenset({"the", "of", "for", "and", "a"})
_NAME_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
MEASURES = ("killed", "injured", "missing", "casualties")


def _name_words(name: str) -> list[str]:
    return [w for w in _NAME_WORD_RE.findall(name.lower()) if w not in _NAME_STOP_WORDS]


def _is_acronym(short: list[str], long: list[str]) -> bool:
    return len(short) == 1 and len(long) >= 2 and short[0] == "".join(w[0] for w in long)


def same_source(gold: Any, predicted: Any) -> bool:
    """realdev's rule: lower-cased words without "the", "of", "for", "and", "a" are equal, one name is
    the other's acronym, one's words are all among the other's, or at least 60% of the gold name's
    words are in the predicted one; null matches null only."""
    if gold is None or predicted is None:
        return gold is None and predicted is None
    g, p = _name_words(str(gold)), _name_words(str(predicted))
    if not g or not p:
        return g == p
    gs, ps = set(g), set(p)
    return (g == p or _is_acronym(g, p) or _is_acronym(p, g) or gs <= ps or ps <= gs
            or sum(w in ps for w in g) >= 0.6 * len(g))


# ------------------------------------------------------------------------------ breakdowns
class Evaluation(NamedTuple):
    """The score over all measures, per measure, per group and per source, and the non-claims taken."""

    overall: ClaimScore
    by_measure: dict[str, ClaimScore]
    by_group: dict[str, ClaimScore]
    by_source: list[tuple[str, int, int, int]]  # gold source, gold claims, matched, source right
    nonclaims_taken: list[tuple[dict, dict]]  # (non-claim, the predicted claim inside its quote)


def english(gold: Sequence[dict]) -> list[dict]:
    """The gold claims of English articles (claims without `lang` count as English)."""
    return [g for g in gold if g.get("lang", "en") == "en"]


def _subset(claims: Sequence[dict], keep: Callable[[dict], bool]) -> list[dict]:
    return [c for c in claims if keep(c)]


def nonclaims_taken(nonclaims: Sequence[dict], predicted: Sequence[dict], gold: Sequence[dict],
                    texts: dict[str, str]) -> list[tuple[dict, dict]]:
    """Each (non-claim, predicted claim) where the claim's figure lies inside the non-claim's quote in
    the article's text and matches no gold claim of the document."""
    gold_keys = {match_key(g) for g in gold}
    spans: dict[str, list[tuple[int, int, dict]]] = {}
    for n in nonclaims:
        text, quote = texts.get(n["doc"]), n.get("quote") or ""
        if text is None or not quote:
            continue
        at = text.find(quote)
        while at >= 0:
            spans.setdefault(n["doc"], []).append((at, at + len(quote), n))
            at = text.find(quote, at + 1)
    taken, seen = [], set()
    for p in predicted:
        if match_key(p) in gold_keys or p.get("char_start") is None:
            continue
        for a, b, n in spans.get(p["doc"], ()):
            if a <= p["char_start"] and p["char_end"] <= b and (id(n), p["number"]) not in seen:
                seen.add((id(n), p["number"]))
                taken.append((n, p))
    return taken


def evaluate(gold: Sequence[dict], predicted: Sequence[dict], nonclaims: Sequence[dict] = (),
             texts: dict[str, str] | None = None) -> Evaluation:
    """The full breakdown of `score_claims` (gold of non-English articles is expected to be left out)."""
    by_measure = {m: score_claims(_subset(gold, lambda c: c.get("measure") == m),
                                  _subset(predicted, lambda c: c.get("measure") == m))
                  for m in MEASURES}
    groups = sorted({_group_key(c.get("group")) for c in gold if not c.get("optional")}, key=str)
    by_group = {g: score_claims(_subset(gold, lambda c: _group_key(c.get("group")) == g),
                                _subset(predicted, lambda c: _group_key(c.get("group")) == g))
                for g in groups}
    overall = score_claims(gold, predicted)
    required = {match_key(g): g for g in reversed(gold) if not g.get("optional")}
    wrong = {id(m.gold) for m in overall.mismatches if m.attribute == "source"}
    matched = set(required) & {match_key(p) for p in predicted}
    per_source: dict[str, list[int]] = {}
    for key, g in required.items():
        row = per_source.setdefault(str(g.get("source")), [0, 0, 0])
        row[0] += 1
        if key in matched:
            row[1] += 1
            row[2] += id(g) not in wrong
    by_source = sorted(((s, *r) for s, r in per_source.items()), key=lambda r: (-r[1], r[0]))
    taken = nonclaims_taken(nonclaims, predicted, gold, texts or {})
    return Evaluation(overall, by_measure, by_group, by_source, taken)


def _score_line(name: str, score: ClaimScore) -> str:
    return (f"  {name:<22} P {score.precision:.3f}  R {score.recall:.3f}  F1 {score.f1:.3f}"
            f"   gold {score.n_gold:>3}  predicted {score.n_predicted:>3}  matched {score.n_matched:>3}")


def format_summary(ev: Evaluation) -> str:
    """The scores of an evaluation, without the lists of misses and false claims."""
    lines = ["per measure:"]
    lines += [_score_line(m, s) for m, s in ev.by_measure.items() if s.n_gold or s.n_predicted]
    lines.append(_score_line("all measures", ev.overall))
    lines.append("per group (total and unspecified as one):")
    lines += [_score_line(str(g), s) for g, s in ev.by_group.items()]
    matched = ev.overall.n_matched
    right = round(ev.overall.accuracy["source"] * matched)
    lines.append(f"source right over matched claims: {ev.overall.accuracy['source']:.3f} ({right}/{matched})")
    lines.append("attribute accuracy over matched claims: "
                 + "   ".join(f"{a} {ev.overall.accuracy[a]:.3f}" for a in ATTRIBUTES))
    lines.append(f"non-claims extracted: {len(ev.nonclaims_taken)}")
    return "\n".join(lines)


def format_evaluation(ev: Evaluation) -> str:
    """The summary, per source, the non-claims taken, then every miss, false claim and mismatch."""
    lines = [format_summary(ev), "", "per source (gold name: gold claims, matched, source right):"]
    lines += [f"  {s}: {n} {m} {r}" for s, n, m, r in ev.by_source]
    lines.append(f"\nnon-claims extracted ({len(ev.nonclaims_taken)}):")
    for n, p in ev.nonclaims_taken:
        lines.append(f"  - {_describe(p)}   why not: {n.get('why')}")
        lines.append(f"      quote: {_squash(n.get('quote'))}")
    full = format_report(ev.overall)
    return "\n".join(lines) + "\n\n" + full[full.index("missed gold claims"):]
