"""Duplicate detection: which articles are copies of which, so a figure repeated by twenty outlets
carrying one wire story counts once.

The modules, in layers (each imports only the ones above it; the records are in
``schemas/duplicates.py``):

- ``settings``: every tunable and why it has its value; ``near_options`` validates a set.
- ``shingles``: a text to its set of 5-word shingle hashes (its words folded by ``transforms.text.shingle_words``).
- ``minhash``: ``MinHasher``, the signature of a shingle set.
- ``lsh``: band keys of a signature; the odds that a pair of a given similarity shares one.
- ``clusters``: ``DisjointSets``, the one union-find (detection, its story rule, its scoring).
- ``stories``: the canonical order (``canonical_key``), and links to stories: canonical and copies.
- ``candidates``: which pairs are compared: shared band keys, shared figures, shared lead sentences.
- ``alignment``: sentence outlines, and a copy found by its sentences when its wording differs.
- ``similarity``: an article's ``Signature``, and ``compare``: is one a copy of the other.
- ``exact``: copies of the same normalised text.
- ``rewrites``: the same story retold: figures and an agency credit kept.
- ``streaming``: ``MarkNearDuplicates``, the stage of a streaming run.
- ``resolve``: ``ResolveDuplicates``, every decision of a batch run in one place, over digests.
- ``state``: what the output folder keeps (canonical articles' signatures) so later runs, and a
  restarted stream, link to it.

A batch run (``pipeline/build.py``) computes each article's digest in ``staging.StageArticles``
(``similarity.signature_of``, ``rewrites.story_traits``, ``exact``'s text hash), decides in
``resolve.ResolveDuplicates`` (exact -> candidates -> compare -> stories -> rewrites), and keeps
the canonical signatures with ``state.WriteSignatures``. A streaming run uses
``streaming.MarkNearDuplicates``, seeded at its start by ``state.StoredSeeds``.
"""
