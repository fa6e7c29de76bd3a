"""`halo-forge datasets add`, `secrets`, `notify` and `--notify`, run in-process."""
from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

from core import credentials, jobs
from core.cli import main
from tests.test_notify import Hook

FIX = Path(__file__).parent / "fixtures" / "imports"


def test_datasets_add_maps_imports_and_refuses_bad_files(home, capsys):
    assert main(["datasets", "add", str(FIX / "good.jsonl"), "--name", "arith",
                 "--map", "input=context"]) == 0
    out = capsys.readouterr().out
    assert "imported 3 records" in out and "instruction<-question" in out
    rows = [json.loads(x) for x in (home / "datasets" / "arith.jsonl").read_text().splitlines()]
    assert rows[2] == {"instruction": "Is 7 prime?", "input": "", "output": "yes"}
    assert main(["datasets", "add", str(FIX / "bad_columns.csv"), "--name", "bad"]) == 2
    assert capsys.readouterr().err.strip() == \
        "halo-forge: line 3: 3 values but the header has 2 columns"
    assert main(["datasets", "add", str(FIX / "good.jsonl"), "--name", "arith"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["datasets", "add", str(FIX / "good.jsonl")]) == 2
    assert "needs --name NAME" in capsys.readouterr().err
    assert sorted(p.name for p in (home / "datasets").iterdir()) == ["arith.jsonl"]


def test_token_from_stdin_is_stored_private_and_printed_masked(home, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("hf_FromStdinToken42\n"))
    assert main(["secrets", "hf-token"]) == 0
    out = capsys.readouterr().out
    assert "FromStdin" not in out and "hf token: set (hf_…42)" in out
    assert credentials.hf_token() == "hf_FromStdinToken42"
    assert stat.S_IMODE(os.stat(home / credentials.FILENAME).st_mode) == 0o600
    assert main(["secrets", "hf-token", "--clear"]) == 0 and credentials.hf_token() is None


def test_notify_set_test_and_a_jobs_own_url(home, capsys):
    hook = Hook()
    try:
        assert main(["notify", "set", hook.url]) == 0
        assert "s3cr3t" not in capsys.readouterr().out
        assert main(["notify", "test"]) == 0
        assert hook.bodies[0]["event"] == "TEST"
        assert capsys.readouterr().out == "test notification accepted by http://127.0.0.1/…\n"
        assert main(["submit", "--notify", "https://own.example/hook/xyz", "--", "true"]) == 0
        job_id = int(capsys.readouterr().out.strip())
        assert credentials.notify_url(jobs.get(job_id)["job_dir"]) == "https://own.example/hook/xyz"
    finally:
        hook.close()
    assert main(["notify", "test"]) == 1  # the endpoint is gone
    assert "the test notification failed: URLError" in capsys.readouterr().err
    try:
        main(["submit", "--notify", "ftp://x", "--", "true"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "--notify must be an http" in capsys.readouterr().err
