"""Read the first rows of any Hugging Face dataset, in a child process.

The Datasets page must not import `datasets` (heavy, and it spawns threads in the UI process),
so `rows()` runs `python -m core.hubpeek ID CONFIG SPLIT LIMIT` and reads its JSON answer.
Offline it answers at once with one sentence and starts nothing. The child streams, so only
the rows asked for are downloaded. The HF token (core.credentials) is given to this child
too, for gated sets: it is a job-like process of our own, not the page.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from core import credentials
from core import datasets as ds
from core.paths import REPO_ROOT

TIMEOUT_S = 120.0


def rows(dataset_id: str, config: str | None = None, split: str = "train",
         limit: int = 200) -> list[dict]:
    """The first `limit` rows of a hub dataset (or of a local dataset folder) as plain dicts;
    raises ds.DatasetError with one sentence when it cannot."""
    dataset_id = (dataset_id or "").strip()
    if not dataset_id:
        raise ds.DatasetError("dataset id is empty; give a hub id such as 'owner/name'")
    local = os.path.isdir(dataset_id)
    if not local and ds.is_offline():
        raise ds.DatasetError(f"offline: '{dataset_id}' cannot be read from the Hugging Face "
                              "hub here (HF_HUB_OFFLINE is set or the hub is unreachable); "
                              "import a local file instead")
    cmd = [sys.executable, "-m", "core.hubpeek", dataset_id, config or "", split, str(int(limit))]
    env = {**os.environ, **credentials.job_env(), "PYTHONPATH": str(REPO_ROOT)}
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, env=env,
                              cwd=str(REPO_ROOT))
    except subprocess.TimeoutExpired:
        raise ds.DatasetError(f"reading '{dataset_id}' took over {TIMEOUT_S:.0f} s; "
                              "try fewer rows") from None
    lines = done.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {}
    except ValueError:
        answer = {}
    if "rows" not in answer:
        why = answer.get("error") or (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ds.DatasetError(f"could not read '{dataset_id}': {why}")
    return answer["rows"]


def _main(argv: list[str]) -> int:
    dataset_id, config, split, limit = argv[0], argv[1] or None, argv[2], int(argv[3])
    try:
        import datasets  # the child's own import: the page process never pays for it

        stream = datasets.load_dataset(dataset_id, config, split=split, streaming=True)
        out = []
        for row in stream:
            out.append(ds._jsonable(dict(row)))
            if len(out) >= limit:
                break
        print(json.dumps({"rows": out}))
    except Exception as exc:  # noqa: BLE001 -- the parent shows the reason in one sentence
        print(json.dumps({"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"}))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
