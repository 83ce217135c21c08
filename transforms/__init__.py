"""Beam PTransforms of each stage and the pure functions they wrap."""

# Every counter and distribution of every stage, batch or streaming, is in this one namespace, under
# a name that says its stage where another stage counts something alike (near_candidates,
# claim_errors, too_short_to_compare); the CLI's run summary reads them by name.
METRICS_NAMESPACE = "tollwatch"
