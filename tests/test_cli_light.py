"""Read commands pay only for what they use: `jobs`, `show`, `status` and `logs` load no config
models (pydantic), no SQLAlchemy and no pandas. bench/cli.py measures the time; this keeps a
new command module from quietly pulling them back into every start."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO

HEAVY = ("pydantic", "sqlalchemy", "sqlmodel", "pandas", "yaml", "torch", "transformers")

SCRIPT = """
import contextlib, io, json, sys
from core.cli import main
out = {}
for words in (["jobs"], ["show", "1"], ["status"], ["logs", "1"]):
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(words)
    out[" ".join(words)] = [code, sorted({m.split(".")[0] for m in sys.modules} & set(%r))]
print(json.dumps(out))
""" % (HEAVY,)


def test_read_commands_load_no_heavy_modules(home):
    from core import jobs

    jobs.submit("command", {"command": ["true"]})  # creates the ledger (with SQLModel) here
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report == {k: [0, []] for k in report}, report
