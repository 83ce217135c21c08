"""Length-prefixed records: how the batch path lays out encoded records one after another, in the
staging files (staging.py) and in the toll's packed accumulators (toll.PackTollClaims)."""

from __future__ import annotations

import struct
from typing import BinaryIO, Iterator

# The length of each record, before it.
LENGTH = struct.Struct("<I")


def framed(stream: BinaryIO) -> Iterator[bytes]:
    """The records of a stream of length-prefixed records, in order."""
    while header := stream.read(LENGTH.size):
        (size,) = LENGTH.unpack(header)
        yield stream.read(size)
