"""One trained adapter for all export tests (package scope: built once): the tiny model, 8 real SFT steps, a COMPLETED job."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest


@pytest.fixture(scope="package")
def trained(tmp_path_factory):
    import torch

    from core import jobs, ledger
    from core.models.presets import tiny_model_dir
    from core.models.tiny import build_tiny_model
    from core.training import sft

    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("HALO_FORGE_HOME", str(home))
    ledger.reset_engines()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    tiny = build_tiny_model(tiny_model_dir(), seed=0)
    config = {"kind": "sft", "model": {"name": str(tiny)}, "data": {"dataset": "alpaca", "limit": 16},
              "lora": {"r": 8, "alpha": 16},
              "training": {"batch_size": 4, "learning_rate": 5e-3, "max_steps": 8, "save_steps": 100}}
    job_id = jobs.submit("sft", config, name="sft tiny for export")
    job_dir = Path(jobs.get(job_id)["job_dir"])
    assert sft.run(jobs.get(job_id)["config"], job_dir) == 0
    assert ledger.transition(job_id, ("QUEUED",), "COMPLETED", exit_code=0)
    adapter = Path(json.loads((job_dir / "summary.json").read_text())["adapter"])
    yield SimpleNamespace(home=home, tiny=tiny, job_id=job_id, adapter=adapter)
    torch.set_num_threads(threads)
    ledger.reset_engines()
    mp.undo()


def run_export(config: dict, job_dir: Path) -> int:
    """The export job as the supervisor runs it (same entry), in this process."""
    from core.export import job

    return job.run(config, job_dir, should_stop=lambda: False)
