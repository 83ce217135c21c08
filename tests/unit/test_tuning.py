"""The workers' process tuning (transforms/tuning.py): what the stage DoFns call does what it says."""

import gc

from tollwatch.transforms.tuning import freeze_heap, return_freed_memory, unfreeze_heap


def test_the_heap_is_frozen_in_setup_and_unfrozen_in_teardown():
    try:
        freeze_heap()
        assert gc.get_freeze_count() > 0
    finally:
        unfreeze_heap()
    assert gc.get_freeze_count() == 0


def test_freed_memory_is_returned_without_error_here_or_without_glibc():
    garbage = [bytearray(1 << 16) for _ in range(64)]
    del garbage
    return_freed_memory()
