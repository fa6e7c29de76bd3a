"""Bad export input: one sentence each, before anything is written; nothing half-written."""
from __future__ import annotations

import json
import shutil

import pytest

from core.configs import ConfigError
from core.export import converter, service, source as src
from core.export.source import ExportError
from tests.export.conftest import run_export


def _check(**kw):
    return service.check(service.build_config(**kw))


def test_each_bad_input_is_refused_in_one_sentence(trained, tmp_path, monkeypatch):
    # An adapter whose recorded base is gone.
    orphan = tmp_path / "orphan"
    shutil.copytree(trained.adapter, orphan)
    cfg = json.loads((orphan / "adapter_config.json").read_text())
    cfg["base_model_name_or_path"] = str(tmp_path / "deleted-base")
    (orphan / "adapter_config.json").write_text(json.dumps(cfg))
    with pytest.raises(ExportError, match=r"^source.adapter: the adapter's base model .*deleted-base is missing"):
        _check(adapter=str(orphan), fmt="merged", out_dir=str(tmp_path / "o1"))

    # An adapter of another architecture: a base whose layers are 64 wide, not 128.
    import torch
    from safetensors.torch import save_file

    other = tmp_path / "other-base"
    other.mkdir()
    (other / "config.json").write_text("{}")
    narrow = {name: torch.zeros([64 if d == 128 else d for d in shape])
              for name, (_dtype, shape) in src.weight_shapes(trained.tiny).items()}
    save_file(narrow, str(other / "model.safetensors"))
    with pytest.raises(ExportError, match=r"expects model.layers.0.\w+.\w+_proj to take 128 inputs but "
                                          r"base model .* has 64 \(an adapter of another architecture\)$"):
        _check(adapter=str(trained.adapter), base=str(other), fmt="merged", out_dir=str(tmp_path / "o2"))

    # An unknown quant, and a quant on a merged export.
    with pytest.raises(ConfigError, match="export.quant must be one of f16, .*got 'q3_k'"):
        _check(job=trained.job_id, fmt="gguf", quant="q3_k")
    with pytest.raises(ConfigError, match="applies to format gguf only"):
        _check(job=trained.job_id, fmt="merged", quant="q8_0")

    # An output directory that exists.
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match=f"^export.out_dir: {taken} already exists; pass --overwrite"):
        _check(job=trained.job_id, fmt="merged", out_dir=str(taken))
    assert (taken / "keep.txt").read_text() == "mine"

    # Too little disk, from the estimate: merged copy + f16 + q4_k_m of a 0.7M-parameter model.
    monkeypatch.setattr(src, "free_bytes", lambda path: 10_000)
    with pytest.raises(ExportError, match=r"^export.out_dir: about [\d.]+ MB is needed on the disk of .* "
                                          r"\(merged weights \(temporary\), f16 GGUF \(temporary\), q4_k_m GGUF\) "
                                          r"but only 0.0 MB is free$"):
        _check(job=trained.job_id, fmt="gguf", quant="q4_k_m", out_dir=str(tmp_path / "o3"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orphan", "other-base", "taken"]


def test_job_refuses_bad_input_and_a_failure_leaves_nothing(trained, tmp_path, monkeypatch, capsys):
    # The job re-checks: the out dir appeared after queueing -> exit 2, one sentence.
    config, out = _check(job=trained.job_id, fmt="merged", out_dir=str(tmp_path / "late"))
    out.mkdir()
    assert run_export(config, tmp_path / "job1") == 2
    assert capsys.readouterr().out.strip().endswith(f"error: export.out_dir: {out} already exists; pass --overwrite to replace it")
    out.rmdir()

    # A failure half-way (the converter is missing): no out dir, no partial dir.
    monkeypatch.setenv(converter.ENV_OVERRIDE, str(tmp_path / "no-converter"))
    config, out = _check(job=trained.job_id, fmt="gguf", quant="q8_0", out_dir=str(tmp_path / "half"))
    with pytest.raises(converter.ConverterMissing, match="run `make install`"):
        run_export(config, tmp_path / "job2")
    assert not out.exists() and not list(tmp_path.glob(".half.partial-*"))


def test_converter_is_checked_by_hash(tmp_path):
    import tarfile

    fake = tmp_path / converter.SDIST_NAME
    with tarfile.open(fake, "w:gz") as tar:
        tar.add(__file__, arcname="llama_cpp_python-0.3.36/vendor/llama.cpp/convert_hf_to_gguf.py")
    with pytest.raises(converter.ConverterMissing, match="has SHA-256 .*, expected 832db069"):
        converter.install(sdist=fake, target=tmp_path / "conv")
    assert not (tmp_path / "conv").exists() and not list(tmp_path.glob(".conv.partial-*"))
    assert converter.is_installed()  # make install put the real one in place
    assert (converter.script().parent / "gguf-py" / "gguf" / "__init__.py").is_file()


def test_cli_export_queues_or_refuses_in_one_sentence(trained, tmp_path, capsys):
    from core import jobs
    from core.cli import main

    taken = tmp_path / "taken"
    taken.mkdir()
    assert main(["export", "--job", str(trained.job_id), "--format", "merged", "--out", str(taken)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"halo-forge: export.out_dir: {taken} already exists; pass --overwrite to replace it"
    assert main(["export", "--adapter", str(tmp_path / "nowhere"), "--format", "gguf"]) == 2
    assert "source.adapter: no LoRA adapter (adapter_config.json) in" in capsys.readouterr().err
    assert main(["export", "--job", "1", "--format", "gguf", "--quant", "q3_k"]) == 2  # argparse
    assert "invalid choice: 'q3_k'" in capsys.readouterr().err
    before = len(jobs.list_jobs(kinds=["export"]))
    assert main(["export", "--job", str(trained.job_id), "--format", "gguf", "--quant", "q4_k_m",
                 "--out", str(tmp_path / "new"), "--no-verify"]) == 0
    job_id = int(capsys.readouterr().out.strip())
    cfg = jobs.get(job_id)["config"]
    assert cfg["source"]["job"] == trained.job_id and cfg["export"] == {
        "format": "gguf", "quant": "q4_k_m", "out_dir": str(tmp_path / "new"), "overwrite": False,
        "verify": False, "max_shard_size": "2GB"}
    assert len(jobs.list_jobs(kinds=["export"])) == before + 1
    assert jobs.request_stop(job_id) == "STOPPED"  # leave the shared ledger with nothing queued
