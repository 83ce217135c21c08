"""`tollwatch eval-claims` and `tollwatch eval-dedup`: score the extractor and the duplicate finder
against hand-labelled files.

Documents are read with the same pure functions the pipeline runs (read, extract, strip repeated
passages), in this process: an evaluation needs the records, not Parquet. A document is named as
in the labels: its file name, and `file#entry-id` for a feed entry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, NamedTuple, Sequence

from apache_beam.io.filesystems import FileSystems
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas import Article, RawDoc
from tollwatch.pipeline.dedup_eval import uri_name
from tollwatch.transforms.extract import extract_articles
from tollwatch.transforms.inputs.files import DEFAULT_MAX_FILE_BYTES, read_file, resolve_inputs
from tollwatch.transforms.repeats import strip_repeated_passages


def doc_name(article: Article) -> str:
    """The name labels use for an article: file name, plus `#entry-id` for a feed entry."""
    return uri_name(article.uri)


def read_articles(inputs: Sequence[str]) -> Iterator[Article]:
    """The articles of the files under `inputs`, as the pipeline extracts them (dead letters are
    skipped: nothing to score), repeated passages removed."""
    now = Timestamp.now()
    for match in FileSystems.match(resolve_inputs(list(inputs))):
        for meta in sorted(match.metadata_list, key=lambda m: m.path):
            raw = read_file(meta, DEFAULT_MAX_FILE_BYTES, now)
            if not isinstance(raw, RawDoc):
                continue  # a dead letter: nothing to score
            for article in extract_articles(raw):
                if isinstance(article, Article):
                    text, removed = strip_repeated_passages(article.text)
                    yield article._replace(text=text, n_repeats_removed=removed)


def load_jsonl(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _claims_and_texts(inputs: Sequence[str], source_files: Sequence[str] = ()) -> tuple[list[dict], dict[str, str]]:
    from tollwatch.transforms.claims import extract_claims, load_sources

    sources = load_sources(source_files)
    predicted, texts = [], {}
    for article in read_articles(inputs):
        name = doc_name(article)
        texts[name] = article.text
        published = article.published_at.to_utc_datetime(has_tz=True)
        for claim in extract_claims(article.text, published, sources, article.title):
            row = claim._asdict()
            row["doc"] = name
            predicted.append(row)
    return predicted, texts


def predicted_claims(inputs: Sequence[str], source_files: Sequence[str] = ()) -> list[dict]:
    """Every claim the extractor finds under `inputs`, as dicts keyed like the gold file."""
    return _claims_and_texts(inputs, source_files)[0]


class LabelSet(NamedTuple):
    """Hand-labelled claims, the non-claims beside them, and where their documents are."""

    name: str
    gold: list[dict]
    nonclaims: list[dict]
    inputs: list[str]


def label_sets(labels: Sequence[str], inputs: Sequence[str] | None = None) -> list[LabelSet]:
    """Each labels argument as a LabelSet: a realdev part (`gold/claims.jsonl`, `gold/nonclaims.jsonl`,
    `news_text/`), a folder of parts, or a gold file (its `nonclaims.jsonl` beside it, when there is
    one, and `--input` for its documents). ValueError for anything else."""
    sets: list[LabelSet] = []
    for label in labels:
        path = Path(label)
        if path.is_dir():
            parts = [path] if (path / "gold" / "claims.jsonl").is_file() else sorted(
                p for p in path.iterdir() if (p / "gold" / "claims.jsonl").is_file())
            if not parts:
                raise ValueError(f"{label}: no gold/claims.jsonl in it or in its sub-folders")
            for part in parts:
                nonclaims = part / "gold" / "nonclaims.jsonl"
                sets.append(LabelSet(part.name, load_jsonl(str(part / "gold" / "claims.jsonl")),
                                     load_jsonl(str(nonclaims)) if nonclaims.is_file() else [],
                                     list(inputs or [str(part / "news_text")])))
        elif path.is_file():
            if not inputs:
                raise ValueError(f"{label}: a gold file needs --input, the folder of its documents")
            nonclaims = path.with_name("nonclaims.jsonl")
            sets.append(LabelSet(path.parent.parent.name if path.name == "claims.jsonl" else path.stem,
                                 load_jsonl(str(path)),
                                 load_jsonl(str(nonclaims)) if nonclaims.is_file() and nonclaims != path else [],
                                 list(inputs)))
        else:
            raise ValueError(f"{label}: no such file or folder")
    return sets


def evaluate_claims(labels: Sequence[str], inputs: Sequence[str] | None = None,
                    source_files: Sequence[str] = ()):
    """(name, Evaluation, documents labelled but not found) per label set, then the whole as "all"
    (English articles only; a document is named by its label set, so parts may share file names)."""
    from tollwatch.pipeline.claims_eval import english, evaluate

    results = []
    everything: tuple[list, list, list, dict] = ([], [], [], {})
    for label_set in label_sets(labels, inputs):
        gold = english(label_set.gold)
        predicted, texts = _claims_and_texts(label_set.inputs, source_files)
        docs = {g["doc"] for g in gold}
        predicted = [p for p in predicted if p["doc"] in docs]
        nonclaims = [n for n in label_set.nonclaims if n["doc"] in docs]
        missing = sorted({g["doc"] for g in label_set.gold} - set(texts))
        results.append((label_set.name, evaluate(gold, predicted, nonclaims, texts), missing))
        prefix = f"{label_set.name}/"
        for into, rows in zip(everything, (gold, predicted, nonclaims)):
            into.extend(dict(r, doc=prefix + r["doc"]) for r in rows)
        everything[3].update((prefix + d, t) for d, t in texts.items())
    if len(results) > 1:
        results.append(("all", evaluate(*everything), []))
    return results


def eval_claims(labels: Sequence[str], inputs: Sequence[str] | None = None,
                source_files: Sequence[str] = ()) -> str:
    """The scoring report of the extractor: the scores of each label set, then of all together with
    every miss, false claim, mismatch and non-claim taken."""
    from tollwatch.pipeline.claims_eval import format_evaluation, format_summary

    results = evaluate_claims(labels, inputs, source_files)
    out = []
    for name, ev, missing in results[:-1]:
        out.append(f"== {name}\n{format_summary(ev)}")
        if missing:
            out.append("labelled documents not found: " + ", ".join(missing))
    name, ev, missing = results[-1]
    out.append(f"== {name}\n{format_evaluation(ev)}")
    if missing:
        out.append("labelled documents not found: " + ", ".join(missing))
    return "\n\n".join(out)


def labelled_sets(labels: Sequence[str], inputs: Sequence[str]) -> list[tuple[str, str, list[str]]]:
    """(name, labels file, input patterns) of each labelled set named by `labels`: a labels file
    (JSON, or a TSV of pairs) read with `inputs`; a folder laid out as realdev's parts
    (`gold/dedup.tsv` and `news_text/*.txt`); or a folder of such parts (each part, in name order)."""
    sets = []
    for given in labels:
        path = Path(given)
        if path.is_file():
            if not inputs:
                raise ValueError(f"{given}: a labels file needs --input (the labelled documents)")
            sets.append((path.stem, str(path), list(inputs)))
            continue
        parts = [path] if (path / "gold" / "dedup.tsv").is_file() else sorted(
            p for p in path.glob("*") if (p / "gold" / "dedup.tsv").is_file())
        if not parts:
            raise ValueError(f"{given}: neither a labels file nor a folder with gold/dedup.tsv")
        for part in parts:
            sets.append((part.name, str(part / "gold" / "dedup.tsv"),
                         [str(part / "news_text" / "*.txt")]))
    return sets


def predicted_articles(inputs: Sequence[str], source_files: Sequence[str] = ()) -> list[dict]:
    """The duplicate fields of every article the batch pipeline writes for `inputs` (the marks come
    from its Beam transforms), run into a temporary folder."""
    import tempfile

    import duckdb
    from apache_beam.options.pipeline_options import PipelineOptions

    # The graph `tollwatch run` builds, wired here rather than through the CLI (which imports this
    # module for its eval commands): scoring depends on the pipeline, not on the command line.
    from tollwatch.pipeline.build import build
    from tollwatch.pipeline.options import TollwatchOptions
    from tollwatch.pipeline.runner import make_pipeline

    with tempfile.TemporaryDirectory(prefix="tollwatch-eval-dedup-") as output:
        options = PipelineOptions(["--default_sdk_harness_log_level=WARNING"], input=list(inputs),
                                  output=output, sources=list(source_files))
        with make_pipeline(options) as pipeline:
            build(pipeline, options.view_as(TollwatchOptions), resolve_inputs(list(inputs)),
                  now=Timestamp.now())
        con = duckdb.connect()
        rows = con.execute(
            f"SELECT uri, doc_id, story_id, copy_of, copy_kind, is_canonical "
            f"FROM read_parquet('{output}/articles/*/*.parquet')").fetchall()
    columns = ("uri", "doc_id", "story_id", "copy_of", "copy_kind", "is_canonical")
    return [dict(zip(columns, row)) for row in rows]


def dedup_scores(labels: Sequence[str], inputs: Sequence[str] = (),
                 source_files: Sequence[str] = ()) -> dict:
    """{name: DedupScore} of each labelled set (``labelled_sets``), each run on its own, and 'all'
    over their pairs together when there are several."""
    from tollwatch.pipeline.dedup_eval import Labels, load_labels, predicted_pairs, score_pairs

    scores, merged, predicted_all, found_all = {}, Labels({}, {}, frozenset()), {}, []
    for name, labels_file, patterns in labelled_sets(labels, inputs):
        labelled = load_labels(labels_file)
        articles = predicted_articles(patterns, source_files)
        predicted = predicted_pairs(articles)
        found = [uri_name(a["uri"]) for a in articles]
        scores[name] = score_pairs(labelled, predicted, found_documents=found)
        merged = Labels({**merged.pairs, **labelled.pairs},
                        {**merged.not_duplicates, **labelled.not_duplicates},
                        merged.documents | labelled.documents)
        predicted_all.update(predicted)
        found_all += found
    if len(scores) > 1:
        scores["all"] = score_pairs(merged, predicted_all, found_documents=found_all)
    return scores


def eval_dedup(labels: Sequence[str], inputs: Sequence[str] = (),
               source_files: Sequence[str] = ()) -> str:
    """The pairwise scoring report of duplicate detection on each labelled set (see
    ``labelled_sets``): the table of the issue's figures, then each set's full report."""
    from tollwatch.pipeline.dedup_eval import format_dedup_report, format_relation_table

    if isinstance(labels, str):
        labels = [labels]
    scores = dedup_scores(labels, inputs, source_files)
    sections = [format_relation_table(scores)]
    for name, score in scores.items():
        if name != "all" or len(scores) == 1:
            sections.append(f"== {name}\n" + format_dedup_report(score))
    return "\n\n".join(sections)


class EventScore(NamedTuple):
    """One labelled event against the inferred ones: its articles, how many are in its main
    inferred event (the one holding most of them) when that event is mostly its own (right), and
    that event's size and id."""

    event: str
    articles: int
    right: int
    main: str
    main_size: int

    @property
    def completeness(self) -> float:
        return self.right / self.articles if self.articles else 0.0

    @property
    def purity(self) -> float:
        return self.right / self.main_size if self.main_size else 0.0


def event_scores(predicted: dict[str, str], gold: dict[str, str]) -> list[EventScore]:
    """Per labelled event (doc -> event maps; docs missing from `predicted` count as wrong)."""
    from collections import Counter

    sizes = Counter(predicted.values())
    # Each inferred event belongs to the labelled event most of its articles have.
    owner = {}
    for event, n in sizes.items():
        owner[event] = Counter(gold[d] for d, e in predicted.items() if e == event and d in gold
                               ).most_common(1)[0][0] if n else None
    scores = []
    for label in sorted(set(gold.values())):
        docs = [d for d, g in gold.items() if g == label]
        found = Counter(predicted[d] for d in docs if d in predicted)
        main, _ = min(found.items(), key=lambda kv: (-kv[1], kv[0])) if found else ("", 0)
        right = found[main] if owner.get(main) == label else 0
        scores.append(EventScore(label, len(docs), right, main, sizes.get(main, 0)))
    return scores


def format_event_scores(scores: Sequence[EventScore], n_events: int) -> str:
    lines = [f"{'event':<16} {'articles':>8} {'right':>5} {'complete':>8} {'pure':>5}  main inferred event"]
    for s in scores:
        lines.append(f"{s.event:<16} {s.articles:>8} {s.right:>5} {s.completeness:>8.2f} "
                     f"{s.purity:>5.2f}  {s.main} ({s.main_size})")
    total, right = sum(s.articles for s in scores), sum(s.right for s in scores)
    lines.append(f"{right} of {total} articles in the right event; {len(scores)} labelled "
                 f"events, {n_events} inferred")
    return "\n".join(lines)


def realdev_events(root: str) -> dict[str, str]:
    """file name -> labelled event, from the INDEX.tsv of each realdev part under `root`."""
    import csv

    gold = {}
    for index in sorted(Path(root).glob("**/news_text/INDEX.tsv")):
        with open(index, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                gold[row["file"]] = row["event"]
    return gold


def eval_events(root: str, output: str | None = None) -> str:
    """Inferred events against realdev's labelled ones: inferred here from the parts' texts, or
    read from the `articles` of an `output` that `tollwatch run` wrote without --events."""
    from tollwatch.transforms.infer_events import article_traits, infer_events

    gold = realdev_events(root)
    if not gold:
        raise ValueError(f"{root}: no news_text/INDEX.tsv below it")
    if output is None:
        articles = list(read_articles(sorted({str(p.parent) for p in
                                              Path(root).glob("**/news_text/INDEX.tsv")})))
        by_id = infer_events([article_traits(a) for a in articles])
        predicted = {doc_name(a): by_id[a.doc_id] for a in articles}
    else:
        from tollwatch.pipeline.query import connect

        rows = connect(output).execute("SELECT uri, event_ids[1] FROM articles").fetchall()
        predicted = {uri_name(uri): event for uri, event in rows}
    predicted = {d: e for d, e in predicted.items() if d in gold}
    return format_event_scores(event_scores(predicted, gold), len(set(predicted.values())))
