"""An article's text as sentences and headlines, each with its absolute character span: the claims
splitter of `transforms/text.py` (the one module of words and sentences), read by the grammar."""

from __future__ import annotations

from tollwatch.transforms.text import Sentence, split_sentences

__all__ = ["Sentence", "split_sentences"]
