"""The UI and the daemon stay light: rendering every page and loading the supervisor never
imports torch, transformers, peft, trl or datasets (only job processes do)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO

HEAVY = ("torch", "transformers", "peft", "trl", "datasets")

SCRIPT = """
import json, sys
from streamlit.testing.v1 import AppTest
from tests.seed import seed
seed()
rendered = []
for page in sys.argv[1:]:
    at = AppTest.from_file(page, default_timeout=60).run()
    rendered.append([page, [str(e.value)[:200] for e in at.exception]])
import core.cli, core.runner.supervisor, core.runner.daemon, core.runner.executors  # noqa
heavy = sorted(m for m in sys.modules if m.split(".")[0] in %r)
print(json.dumps({"rendered": rendered, "heavy": heavy}))
""" % (HEAVY,)


def test_pages_and_supervisor_never_import_heavy_packages(tmp_path):
    pages = sorted(str(p) for p in (REPO / "pages").glob("*.py"))
    env = dict(os.environ, PYTHONPATH=str(REPO), HALO_FORGE_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(REPO / "app.py"), *pages], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(report["rendered"]) == len(pages) + 1
    assert all(not errors for _page, errors in report["rendered"]), report["rendered"]
    assert report["heavy"] == [], report["heavy"]
