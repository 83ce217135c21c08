"""Bounded fuzzing of the claim parser and the document readers (Hypothesis). Longer runs, and
atheris when installed: benchmarks/fuzz.py."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from fuzzing import CLAIM_TEXTS, DOCUMENTS, check_claims, check_document

BOUNDED = settings(max_examples=150, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@BOUNDED
@given(CLAIM_TEXTS)
def test_the_claim_parser_takes_any_text(text):
    check_claims(text)


@BOUNDED
@given(DOCUMENTS)
def test_the_readers_take_any_document(document):
    check_document(*document)


def test_the_fuzz_targets_can_fail():
    """The targets check something: a claim over MAX_FIGURE or an article dated in 9999 breaks them
    when the guards are off."""
    import pytest

    from tollwatch.transforms import extract
    from tollwatch.transforms.claims import grammar as claims  # the module whose eligibility test reads it

    original = claims.MAX_FIGURE
    try:
        claims.MAX_FIGURE = 10**30
        with pytest.raises((AssertionError, OverflowError)):
            check_claims("Officials said 100000000000000000000 people were killed in the flood.")
    finally:
        claims.MAX_FIGURE = original
    original = extract.MAX_FUTURE_SECONDS
    try:
        extract.MAX_FUTURE_SECONDS = 10**12
        with pytest.raises(AssertionError):
            check_document("/in/a.txt", b" date 9999-12-31 " + (b"The toll rose to 23. " * 20))
    finally:
        extract.MAX_FUTURE_SECONDS = original
