"""Mistakes a new user makes get one line with a hint, and the command's own usage."""

import pytest

from tollwatch.pipeline.cli import RunError, check_output, main, runner_failure, submit


def _error(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    return capsys.readouterr().err


def test_a_misspelt_option_gets_did_you_mean_and_the_commands_usage(capsys, tmp_path):
    err = _error(capsys, ["run", "--input", str(tmp_path), "--ouptut", "x"])
    assert "did you mean --output?" in err and err.startswith("usage: tollwatch run")
    err = _error(capsys, ["query", str(tmp_path), "--unsafesql", "SELECT 1"])
    assert "did you mean --unsafe-sql?" in err and "usage: tollwatch query" in err


def test_follow_refuses_input_and_run_help_sets_the_live_options_apart(capsys):
    assert "not --input" in _error(capsys, ["follow", "--input", "x", "--output", "y"])
    # Options of `run` that follow does not use are refused, not ignored.
    err = _error(capsys, ["follow", "--watch", "x", "--output", "y", "--write-window-seconds=5"])
    assert "--write-window-seconds is for run --streaming" in err
    assert "bounded pipeline every tick" in _error(
        capsys, ["follow", "--watch", "x", "--output", "y", "--streaming"])
    assert main(["run", "--streaming", "--input", "x", "--watch", "x", "--output", "y"]) == 2
    assert "not --input" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    help_text = capsys.readouterr().out
    assert "live sources, with --streaming" in help_text


def test_query_takes_the_sql_after_unsafe_sql(tmp_path, capsys):
    assert main(["query", str(tmp_path), "--unsafe-sql", "SELECT 41 + 1 AS answer"]) == 0
    assert "42" in capsys.readouterr().out


def test_an_output_that_is_a_file_or_cannot_be_written_is_one_line(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("notes")
    assert main(["run", "--input", str(tmp_path), "--output", str(afile)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file, not a folder" in err and afile.read_text() == "notes"
    with pytest.raises(RunError, match="cannot write to the output folder"):
        check_output("/proc/tollwatch-cannot-write-here")


def test_a_runner_that_hangs_or_fails_is_told_in_one_line():
    from apache_beam.options.pipeline_options import PipelineOptions

    import threading

    hang = threading.Event()
    options = PipelineOptions(["--runner=DataflowRunner"])
    with pytest.raises(RunError, match="did not take the job within 0.2 s"):
        submit(hang.wait, options, timeout=0.2)
    hang.set()
    jar = RuntimeError("Unable to fetch remote job server jar at https://x/y.jar: HTTP Error 404: "
                       "Not Found. If no Internet access at runtime, stage the jar at /c/j.jar")
    message = runner_failure("FlinkRunner", jar)
    assert "\n" not in message and "/c/j.jar" in message and "HTTP Error 404" in message
    assert submit(lambda: "ran", PipelineOptions([])) == "ran"
