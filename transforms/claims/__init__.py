"""The claims stage as a package (being split along its seams); its names are re-exported here."""

from .grammar import *  # noqa: F401,F403
from .grammar import (  # noqa: F401
    _ACCORDING_LOW_RE, _ACCORDING_START_RE, _ATTRIBUTION_HINT_LOW_RE, _ATTRIBUTION_HINT_START_RE, _ArticleContext,
    _CASUALTY_STEMS, _CASUALTY_WORDS, _CITING_LOW_RE, _CITING_START_RE, _CLAIM_WORDS_LOW_RE, _CLAIM_WORDS_RE,
    _COREF_LOW_RE, _COREF_RE, _NAME_RE, _NUMBER_LOW_RE, _PERIOD_LOW_RE, _PERIOD_START_RE, _PLACE_KEYS,
    _REPORTED_BY_LOW_RE, _REPORTED_BY_START_RE, _RESIDENTS_OF_START_RE, _SENT_BREAK_RE, _SENT_BREAK_START_RE,
    _SETTLEMENT_OF_START_RE, _SPEECH_START_RE, _SPEECH_VERBS, _SRC_TOKEN_LOW_RE, _SRC_TOKEN_RE,
    _TRAILING_TIME_LOW_RE, _TRAILING_TIME_RE, _Token, _TokenRun, _anchored_finditer, _caseless_lower,
    _casualty_starts, _clean_place, _find_mentions, _finditer_at, _finditer_from, _hint_in, _hint_starts,
    _literal_starts, _search_from, _sources_from_texts, _split_sentences, _starts_in, _tokenize, _word_starts)
