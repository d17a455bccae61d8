"""`python app.py` as `npx cdk synth` runs it, in fresh processes started when the session
starts (see conftest.py). This file sorts last, so the main process synthesizes meanwhile."""

from __future__ import annotations

import json


def test_app_py_synth_runs_the_pack_and_writes_the_tested_template(background, default):
    # `python app.py` as `cdk synth` runs it, cdk-nag included.
    _, stderr = background.cli_run.communicate(timeout=300)
    assert background.cli_run.returncode == 0, stderr
    report = json.loads((background.cli_outdir / "validation-report.json").read_text())
    assert report["pluginReports"] == []
    template = (background.cli_outdir / "KmsSignEncryptStack.template.json").read_text()
    assert json.loads(template) == default.doc


def test_a_bad_cli_value_is_one_line_on_stderr_and_exit_2(background):
    # `npx cdk synth -c sample:pendingWindowDays=3` runs `python3 app.py` like this (conftest).
    stdout, stderr = background.bad_cli_run.communicate(timeout=300)
    assert (background.bad_cli_run.returncode, stdout) == (2, "")
    assert stderr == (
        "error: sample:pendingWindowDays must be a whole number of days from 7 to 30; got '3'\n"
    )
