"""The command line as people meet it: help, version, environment variables, progress, tables."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from forgesyte_core.plugins.registry import PluginRegistry
from forgesyte_dev import cli
from forgesyte_dev.client import ApiClient, ApiError
from forgesyte_dev.plugins_cmd import describe
from forgesyte_dev.progress import JobProgress, progress
from forgesyte_dev.project import NoProject, project_dir
from forgesyte_dev.tables import record, table


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_arguments_prints_help_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: forgesyte")
    assert "FORGESYTE_API_URL" in out
    assert "submit" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("forgesyte 0.")


def test_the_command_line_loads_no_aws_sdk_until_a_command_needs_it() -> None:
    """`forgesyte --help` and the API commands start in a tenth of a second, not most of one."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, forgesyte_dev.cli; print(sorted(set(sys.modules) & {'boto3', 'botocore', 'pynamodb'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert loaded == "[]"


def test_ctrl_c_in_any_command_exits_130_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from forgesyte_dev import probe_cmd

    def interrupted(*_: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(probe_cmd, "run", interrupted)
    assert cli.main(["probe", "clip.mp4"]) == 130
    assert capsys.readouterr().err == "forgesyte: interrupted\n"


def test_every_option_of_every_command_says_what_it_does() -> None:
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert all(choice.help for choice in commands._choices_actions)
    for name, sub in commands.choices.items():
        for action in sub._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"forgesyte {name} {action.option_strings[0]} has no help"


def test_the_api_and_key_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORGESYTE_API_URL", "https://abc.execute-api.eu-west-1.amazonaws.com/prod")
    monkeypatch.setenv("FORGESYTE_API_KEY", "k-123")
    args = cli.build_parser().parse_args(["jobs"])
    assert (args.api, args.api_key) == ("https://abc.execute-api.eu-west-1.amazonaws.com/prod", "k-123")
    assert cli.build_parser().parse_args(["jobs", "--api-key", "other"]).api_key == "other"


def test_the_local_key_follows_api_gateways_length_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.build_parser().parse_args(["dev"]).api_key == cli.DEFAULT_LOCAL_KEY
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["dev", "--api-key", "short"])
    assert "20 to 128 characters" in capsys.readouterr().err


def test_without_a_terminal_progress_is_plain_lines_with_rate_and_eta() -> None:
    log = io.StringIO()
    report = progress("upload clip.mp4", stream=log)
    for done in range(0, 10_000_001, 250_000):
        report(done, 10_000_000)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert len(lines) == 11  # one per tenth
    assert lines[-1].startswith("upload clip.mp4: 100% 10.0M/10.0M")
    assert "B/s]" in lines[5]
    jobs = io.StringIO()
    follow = JobProgress("0123456789abcdef", jobs)
    for status, percent in [("queued", 0), ("running", 3), ("running", 4), ("running", 55), ("completed", 100)]:
        follow({"status": status, "progress": percent})
    assert [line.split(" (")[0] for line in jobs.getvalue().splitlines()] == [
        "job 01234567: queued 0%",
        "job 01234567: running 3%",
        "job 01234567: running 55%",
        "job 01234567: completed 100%",
    ]
    segmented = io.StringIO()
    follow = JobProgress("0123456789abcdef", segmented)
    follow({"status": "running", "progress": 60, "segments": {"total": 5, "done": 3, "running": 2, "queued": 0}})
    assert segmented.getvalue().startswith("job 01234567: running, segments 3/5 done, 2 running 60% (")


def test_on_a_terminal_progress_is_a_tqdm_bar() -> None:
    screen = Terminal()
    report = progress("upload clip.mp4", stream=screen)
    report(0, 1000)
    report(1000, 1000)
    drawn = screen.getvalue()
    assert "\r" in drawn
    assert "100%" in drawn
    assert "B/s" in drawn


def test_tables_and_records() -> None:
    rows = [{"job_id": "a1", "status": "failed", "error_code": "invalid_media"}, {"job_id": "b22", "status": "queued"}]
    assert table(rows, [("job_id", "job"), ("status", "status"), ("error_code", "error")]).splitlines() == [
        "JOB  STATUS  ERROR",
        "a1   failed  invalid_media",
        "b22  queued  -",
    ]
    shown = record({"job_id": "a1", "media": {"codec": "h264"}, "summary": None}, ["job_id", "media", "summary"])
    assert shown.splitlines() == ["job_id  a1", "media   codec=h264"]


def test_users_never_see_the_test_fixture_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORGESYTE_TEST_PLUGINS")
    ids = {row["id"] for row in describe(PluginRegistry())}
    assert ids == {"motion-tracker", "rapidocr", "yolo-onnx"}
    monkeypatch.setenv("FORGESYTE_TEST_PLUGINS", "1")
    assert {"frame-counter", "broken"} <= {row["id"] for row in describe(PluginRegistry())}


def test_the_project_is_found_from_any_folder_inside_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    assert project_dir(inner) == tmp_path
    monkeypatch.setenv("FORGESYTE_PROJECT_DIR", str(inner))
    with pytest.raises(NoProject, match=r"has no template\.yaml"):
        project_dir()


def test_commands_needing_a_stack_say_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ApiError, match=r"start one with `forgesyte dev`.*FORGESYTE_API_URL"):
        ApiClient.from_stack(tmp_path / "stack.json")
    with pytest.raises(ApiError, match=r"cannot reach http://127\.0\.0\.1:9"):
        ApiClient("http://127.0.0.1:9", "k", timeout=2).request("GET", "/v1/jobs")


def test_events_lists_what_the_local_event_bus_carried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    (tmp_path / ".local-stack").mkdir()
    event = {
        "time": "2026-11-26T20:00:00Z",
        "detail": {"job_id": "j-1", "status": "failed", "tool": "t", "error_code": "timeout"},
    }
    (tmp_path / ".local-stack/events.jsonl").write_text(json.dumps(event) + "\n")
    monkeypatch.setenv("FORGESYTE_PROJECT_DIR", str(tmp_path))
    assert cli.main(["events"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "TIME                  JOB  STATUS  TOOL  ERROR",
        "2026-11-26T20:00:00Z  j-1  failed  t     timeout",
    ]
    assert cli.main(["events", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == event
    dropped = {
        "time": "2026-11-26T20:00:01Z",
        "detail": {"job_id": "j-2", "status": "queued", "tool": "t", "error_code": None, "owner": "s3-drop",
                   "input": {"bucket": "b", "key": "incoming/p/t/gate.mp4"}},
    }  # fmt: skip
    with (tmp_path / ".local-stack/events.jsonl").open("a") as out:
        out.write(json.dumps(dropped) + "\n")
    assert cli.main(["events"]) == 0
    from forgesyte_core.intake.drops import DROP_OWNER

    assert cli.DROP_OWNER == DROP_OWNER
    assert capsys.readouterr().out.splitlines()[-1].split() == [
        "2026-11-26T20:00:01Z", "j-2", "queued", "t", "-", "incoming/p/t/gate.mp4"
    ]  # fmt: skip


def test_events_say_which_stack_carried_them_and_whether_one_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    state = tmp_path / ".local-stack"
    state.mkdir()
    lines = [
        {"time": "2026-12-03T09:00:00Z", "stack": "forgesyte-local@2026-12-03T08:59:58Z",
         "detail": {"job_id": "j-1", "status": "completed", "tool": "t", "error_code": None}},
        {"time": "2026-12-03T10:00:00Z", "stack": "forgesyte-local@2026-12-03T09:59:59Z",
         "detail": {"job_id": "j-2", "status": "queued", "tool": "t", "error_code": None}},
    ]  # fmt: skip
    (state / "events.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    monkeypatch.setenv("FORGESYTE_PROJECT_DIR", str(tmp_path))
    assert cli.main(["events"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].split() == ["STACK", "TIME", "JOB", "STATUS", "TOOL", "ERROR"]
    assert out.splitlines()[2].startswith("forgesyte-local@2026-12-03T09:59:59Z")
    assert "no local stack is running" in err
    (state / "stack.json").write_text("{}")
    assert cli.main(["events"]) == 0
    assert "no local stack is running" not in capsys.readouterr().err
