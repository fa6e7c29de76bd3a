"""Bad CLI input, as a new user types it: exit 2, one short line on stderr that names the
culprit, no traceback, and not one ledger row changed."""
from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from core import cli, jobs
from tests.conftest import REPO

LONG_NAME = "n" * 5000
TABLES = ("job", "metric", "log_line", "event", "result")


@pytest.fixture
def world(home, tmp_path):
    """A ledger with one queued job, and config files good and bad."""
    queued = jobs.submit("command", {"command": ["true"]}, name="keep-me")
    files = {}

    def write(name, text):
        path = tmp_path / name
        path.write_text(text)
        files[name] = str(path)

    write("good.yaml", (REPO / "data/configs/sft-tiny.yaml").read_text())
    write("raft.yaml", (REPO / "data/configs/raft-tiny.yaml").read_text())
    write("syntax.yaml", "kind: sft\nmodel: {name: tiny\n")
    write("unknown.yaml", "kind: sft\nmodel: {name: tiny}\ndata: {dataset: alpaca}\nlearning_rate: 1\n")
    write("selfref.yaml", "kind: sft\nmodel: &m\n  name: tiny\n  again: *m\n")
    bomb = ["kind: sft", 'a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    bomb += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 7)]
    write("bomb.yaml", "\n".join(bomb) + "\n")
    write("samples.jsonl", '{"task_id": "HumanEval/0", "completion": "    return True\\n"}\n')
    write("empty.yaml", "")
    return queued, files


def digest(home) -> tuple:
    con = sqlite3.connect(home / "ledger.db")
    try:
        counts = tuple(con.execute(f"SELECT COUNT(*), COALESCE(MAX(id), 0) FROM {t}").fetchone()
                       for t in TABLES)
        jobs_state = tuple(con.execute("SELECT id, status, priority, queue_pos, name, updated_at "
                                       "FROM job ORDER BY id").fetchall())
    finally:
        con.close()
    return counts, jobs_state


# (arguments, a word the message must contain); {name} is replaced by the file of that name
CASES = [
    # submit
    (["submit"], "command"),
    (["submit", "--", ""], "program"),
    (["submit", "--gpus", "-1", "--", "true"], "--gpus"),
    (["submit", "--gpus", "two", "--", "true"], "--gpus"),
    (["submit", "--priority", "high", "--", "true"], "--priority"),
    (["submit", "--name", LONG_NAME, "--", "true"], "name"),
    (["submit", "--name", "two\nlines", "--", "true"], "name"),
    (["submit", "--profile", "nowhere", "--", "true"], "nowhere"),
    # jobs, show, logs
    (["jobs", "--status", "TYPO"], "TYPO"),
    (["jobs", "--status", "running,DONE"], "DONE"),
    (["jobs", "--limit", "-5"], "--limit"),
    (["jobs", "--limit", "ten"], "--limit"),
    (["jobs", "--bogus"], "--bogus"),
    (["show"], "id"),
    (["show", "abc"], "id"),
    (["show", "0"], "id"),
    (["show", "-3"], "id"),
    (["show", "99999"], "99999"),
    (["logs", "99999"], "99999"),
    (["logs", "-n", "-1", "1"], "--lines"),
    (["logs"], "id"),
    # job actions
    (["stop", "99999"], "99999"),
    (["retry", "99999"], "99999"),
    (["resume", "99999"], "99999"),
    (["delete", "99999"], "99999"),
    (["stop", "x"], "id"),
    (["move", "1", "sideways"], "sideways"),
    (["move", "99999", "up"], "99999"),
    (["move"], "id"),
    (["priority", "1", "high"], "priority"),
    (["priority", "99999", "3"], "99999"),
    (["status", "--bogus"], "--bogus"),
    (["checkpoints"], "id"),
    (["checkpoints", "99999"], "99999"),
    (["slots", "--bogus"], "--bogus"),
    (["secrets", "frob"], "frob"),
    (["notify", "set"], "URL"),
    (["notify", "set", "notaurl"], "URL"),
    (["notify", "frob"], "frob"),
    # supervisor and ui: refused before anything starts
    (["supervisor"], "action"),
    (["supervisor", "restart"], "restart"),
    (["supervisor", "start", "--slots", "0"], "--slots"),
    (["supervisor", "start", "--slots", "-1"], "--slots"),
    (["supervisor", "start", "--grace", "-1"], "--grace"),
    (["ui", "--port", "99999"], "--port"),
    (["ui", "--port", "0"], "--port"),
    (["ui", "--port", "http"], "--port"),
    (["ui", "--host", "bad host!"], "bad host!"),
    # training and configs
    (["train", "sft"], "--config"),
    (["train", "xyz", "--config", "{good.yaml}"], "xyz"),
    (["train", "sft", "--config", "/nonexistent/x.yaml"], "/nonexistent/x.yaml"),
    (["train", "sft", "--config", "{raft.yaml}"], "raft"),
    (["train", "sft", "--config", "{syntax.yaml}"], "YAML"),
    (["train", "sft", "--config", "{selfref.yaml}"], "anchor"),
    (["train", "sft", "--config", "{bomb.yaml}"], "aliases"),
    (["train", "sft", "--config", "{empty.yaml}"], "empty"),
    (["train", "sft", "--config", "{good.yaml}", "--set", "training.learning_rate=abc"], "learning_rate"),
    (["train", "sft", "--config", "{good.yaml}", "--set", "nokey"], "nokey"),
    (["train", "sft", "--config", "{good.yaml}", "--set", "training.nope=1"], "nope"),
    (["train", "sft", "--config", "{good.yaml}", "--name", LONG_NAME], "name"),
    (["config", "validate", "/nonexistent/y.yaml"], "/nonexistent/y.yaml"),
    (["config", "check", "{good.yaml}"], "check"),
    (["config", "validate", "{unknown.yaml}"], "learning_rate"),
    (["config", "validate", "{selfref.yaml}"], "anchor"),
    # datasets and models
    (["datasets", "show"], "name"),
    (["datasets", "show", "nonexistent"], "nonexistent"),
    (["datasets", "frob"], "frob"),
    (["datasets", "show", "alpaca", "--limit", "-1"], "--limit"),
    (["models", "huge"], "huge"),
    # verify and benchmark
    (["verify", "--verifier", "humaneval"], "--samples"),
    (["verify", "--verifier", "nope", "--samples", "{samples.jsonl}", "--queue"], "nope"),
    (["verify", "--verifier", "humaneval", "--samples", "/nonexistent/s.jsonl"], "/nonexistent/s.jsonl"),
    (["verify", "--verifier", "humaneval", "--samples", "{samples.jsonl}", "--workers", "0"], "--workers"),
    (["benchmark", "run"], "--model"),
    (["benchmark", "run", "--model", "tiny", "--benchmark", "nope"], "nope"),
    (["benchmark", "run", "--model", "tiny", "--benchmark", "humaneval", "--limit", "0"], "--limit"),
    (["benchmark", "run", "--model", "tiny", "--benchmark", "humaneval", "--samples", "-2"], "--samples"),
    (["benchmark", "run", "--model", "tiny", "--benchmark", "humaneval", "--temperature", "5"], "temperature"),
    (["results", "--format", "xml"], "xml"),
    (["results", "compare", "1"], "two job ids"),
    (["results", "compare", "1", "x"], "'x'"),
    (["benchmark", "run", "--model", "my-org/not-cached", "--benchmark", "humaneval"], "my-org/not-cached"),
    (["contamination", "--train", "alpaca"], "--benchmark"),
    (["contamination", "--train", "alpaca", "--benchmark", "nope"], "nope"),
    (["contamination", "--train", "/nonexistent/t.jsonl", "--benchmark", "humaneval"], "/nonexistent/t.jsonl"),
    (["contamination", "--train", "alpaca", "--benchmark", "mbpp", "--ngram", "0"], "--ngram"),
    # serving, results, contamination, ledger
    (["serve"], "--model"),
    (["serve", "--model", "tiny", "--engine", "frob"], "frob"),
    (["serve", "--job", "99999"], "99999"),
    (["serve", "--model", "tiny", "--port", "99999"], "port"),
    (["serve", "--model", "tiny", "--idle-minutes", "-1"], "idle"),
    (["results", "compare", "1"], "two job ids"),
    (["results", "compare", "99998", "99999"], "99998"),
    (["contamination", "--train", "alpaca", "--benchmark", "nope"], "nope"),
    (["contamination", "--train", "/nonexistent/t.jsonl", "--benchmark", "humaneval"], "/nonexistent/t.jsonl"),
    (["ledger", "frob"], "frob"),
    (["export", "--model", "tiny"], "--format"),
    (["export", "--model", "tiny", "--format", "zip"], "zip"),
    (["export", "--model", "tiny", "--format", "gguf", "--quant", "q3"], "q3"),
    (["export", "--job", "99999", "--format", "merged"], "99999"),
    (["ledger", "prune", "--older-than", "abc"], "--older-than"),
    # profiles and the top level
    (["profiles", "add"], "NAME"),
    (["profiles", "add", "p", "--executor", "k8s"], "k8s"),
    (["profiles", "add", "p", "--executor", "slurm", "--nodes", "0"], "--nodes"),
    (["frobnicate"], "frobnicate"),
    ([], "COMMAND"),
]


def test_there_are_at_least_sixty_cases():
    assert len(CASES) >= 60
    commands = {args[0] for args, _ in CASES if args}
    assert set(cli.build_parser()._subparsers._group_actions[0].choices) - commands <= set(), \
        "every command has at least one bad-input case"


@pytest.mark.parametrize("args,culprit", CASES, ids=[" ".join(a)[:60] or "(none)" for a, _ in CASES])
def test_bad_invocation(world, home, capsys, args, culprit):
    _queued, files = world
    argv = [files.get(a[1:-1], a) if a.startswith("{") and a.endswith("}") else a for a in args]
    before = digest(home)
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert len(lines[0]) <= 400, lines[0]
    assert culprit.lower() in lines[0].lower(), lines[0]
    assert digest(home) == before


def test_piping_into_head_is_quiet(home):
    """`halo-forge jobs | head` whose reader has gone: no BrokenPipeError traceback."""
    for i in range(3):
        jobs.submit("command", {"command": ["true"]}, name=f"job {i}")
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "jobs"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err, err
