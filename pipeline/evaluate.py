"""`tollwatch eval-claims` and `tollwatch eval-dedup`: score the extractor and the duplicate finder
against hand-labelled files.

Documents are read with the same pure functions the pipeline runs (read, extract, strip repeated
passages), in this process: an evaluation needs the records, not Parquet. A document is named as
in the labels: its file name, and `file#entry-id` for a feed entry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, Sequence

from apache_beam.io.filesystems import FileSystems
from apache_beam.utils.timestamp import Timestamp

from tollwatch.schemas import Article, RawDoc
from tollwatch.transforms.dedup_eval import uri_name
from tollwatch.transforms.extract import extract_articles
from tollwatch.transforms.ingest import DEFAULT_MAX_FILE_BYTES, read_file, resolve_inputs
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


def predicted_claims(inputs: Sequence[str], source_files: Sequence[str] = ()) -> list[dict]:
    """Every claim the extractor finds under `inputs`, as dicts keyed like the gold file."""
    from tollwatch.transforms.claims import extract_claims, load_sources

    sources = load_sources(source_files)
    predicted = []
    for article in read_articles(inputs):
        published = article.published_at.to_utc_datetime(has_tz=True)
        for claim in extract_claims(article.text, published, sources):
            row = claim._asdict()
            row["doc"] = doc_name(article)
            predicted.append(row)
    return predicted


def eval_claims(gold_file: str, inputs: Sequence[str], source_files: Sequence[str] = ()) -> str:
    """The scoring report of the extractor on the documents under `inputs` against `gold_file`."""
    from tollwatch.transforms.claims_eval import format_report, score_claims

    gold = load_jsonl(gold_file)
    predicted = predicted_claims(inputs, source_files)
    gold_docs = {g["doc"] for g in gold}
    predicted = [p for p in predicted if p["doc"] in gold_docs]
    missing = sorted(gold_docs - {doc_name(a) for a in read_articles(inputs)})
    report = format_report(score_claims(gold, predicted))
    if missing:
        report += "\n\nLabelled documents not found under --input: " + ", ".join(missing)
    return report


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

    from tollwatch.pipeline.cli import run_pipeline

    with tempfile.TemporaryDirectory(prefix="tollwatch-eval-dedup-") as output:
        run_pipeline(list(inputs), output, sources=list(source_files))
        con = duckdb.connect()
        rows = con.execute(
            f"SELECT uri, doc_id, dup_cluster_id, dup_of, dup_kind, is_canonical "
            f"FROM read_parquet('{output}/articles/*/*.parquet')").fetchall()
    columns = ("uri", "doc_id", "dup_cluster_id", "dup_of", "dup_kind", "is_canonical")
    return [dict(zip(columns, row)) for row in rows]


def dedup_scores(labels: Sequence[str], inputs: Sequence[str] = (),
                 source_files: Sequence[str] = ()) -> dict:
    """{name: DedupScore} of each labelled set (``labelled_sets``), each run on its own, and 'all'
    over their pairs together when there are several."""
    from tollwatch.transforms.dedup_eval import Labels, load_labels, predicted_pairs, score_pairs

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
    from tollwatch.transforms.dedup_eval import format_dedup_report, format_relation_table

    if isinstance(labels, str):
        labels = [labels]
    scores = dedup_scores(labels, inputs, source_files)
    sections = [format_relation_table(scores)]
    for name, score in scores.items():
        if name != "all" or len(scores) == 1:
            sections.append(f"== {name}\n" + format_dedup_report(score))
    return "\n\n".join(sections)
