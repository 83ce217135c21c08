"""Beam PTransforms of each stage and the pure functions they wrap."""
