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


def _run_as_worker(body: str) -> "subprocess.CompletedProcess":
    """`body` in a fresh process that looks like an SDK worker (its __main__ named as Beam's
    harness), with an atexit handler registered first, as Beam's and the libraries' are."""
    import subprocess
    import sys

    code = ("import atexit, importlib.machinery, sys\n"
            "atexit.register(lambda: print('teardown ran', flush=True))\n"
            "from tollwatch.transforms.tuning import SDK_WORKER_MAIN, exit_without_teardown\n"
            "sys.modules['__main__'].__spec__ = importlib.machinery.ModuleSpec(SDK_WORKER_MAIN, None)\n"
            "exit_without_teardown()\n" + body)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_a_worker_that_ends_well_exits_without_the_teardown_and_with_status_0():
    done = _run_as_worker("print('work done', flush=True)")
    assert done.returncode == 0
    assert done.stdout.split() == ["work", "done"]  # the handlers registered before it: skipped


def test_a_worker_that_fails_keeps_its_status_and_its_teardown():
    failed = _run_as_worker("raise RuntimeError('harness failed')")
    assert failed.returncode == 1
    assert "teardown ran" in failed.stdout and "harness failed" in failed.stderr


def test_outside_a_worker_exit_is_left_alone():
    import atexit

    from tollwatch.transforms.tuning import exit_without_teardown

    before = atexit._ncallbacks()
    exit_without_teardown()  # pytest's process: not an SDK worker
    assert atexit._ncallbacks() == before
