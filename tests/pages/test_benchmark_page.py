"""AppTest for the Benchmark page: choices per type, queueing through core.jobs, the switch
to Monitor, and the base-vs-adapter comparison."""
from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from core import jobs
from core.benchmarks import catalogue
from tests.conftest import REPO

APP = str(REPO / "app.py")
PAGE = "pages/benchmark.py"


def _open(type_: str | None = None, typed_model: str | None = None) -> AppTest:
    """The page inside the app's navigation. `typed_model` enters a model that is not among
    the options (accept_new_options): AppTest can only pick listed options, so the state is
    written before the page first renders, as typing would leave it."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.switch_page(PAGE)
    if type_:
        at.session_state["bench_type"] = type_
        at.session_state["bench_model_type"] = type_
    if typed_model:
        at.session_state["bench_model"] = typed_model
    return at.run()


def _queued() -> list[dict]:
    return jobs.list_jobs(kinds=["benchmark"])


def _adapter(tmp_path, base: str = "/models/base"):
    path = tmp_path / "run" / "adapter"
    path.mkdir(parents=True)
    (path / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": base}))
    return path


def test_defaults_to_code_with_presets_and_tiny_model(home):
    at = _open()
    assert not at.exception
    assert at.title[0].value == "Benchmark"
    assert at.multiselect(key="bench_names").options == ["HumanEval", "MBPP", "LiveCodeBench"]
    assert at.multiselect(key="bench_names").value == ["humaneval"]
    options = at.selectbox(key="bench_model").options
    assert "Qwen/Qwen2.5-Coder-1.5B-Instruct" in options and "tiny" in options
    assert at.selectbox(key="bench_model").value == "tiny"  # the default runs here
    assert at.selectbox(key="bench_executor").options == ["local", "ray", "slurm"]
    assert any("deepseek-coder" in o for o in options)
    assert at.number_input(key="bench_samples").value == 1
    assert at.button(key="bench_compare").disabled  # no adapter yet


def test_type_switch_changes_benchmarks_models_and_fields(home):
    at = _open()
    at.button_group(key="bench_type").set_value("vlm").run()
    assert not at.exception
    assert at.multiselect(key="bench_names").options == ["TextVQA", "DocVQA", "MMStar", "ChartQA"]
    model = at.selectbox(key="bench_model")
    assert model.value == "tiny-llava"
    assert "tiny-llava" in model.options and "tiny" not in model.options
    keys = {w.key for w in at.number_input}
    assert "bench_samples" not in keys  # n and temperature are for code only
    at.button_group(key="bench_type").set_value("audio").run()
    assert "openai/whisper-large-v3" in at.selectbox(key="bench_model").options
    assert at.multiselect(key="bench_names").value == ["librispeech"]
    assert at.selectbox(key="bench_model").value == "tiny-whisper"


def test_run_queues_a_validated_job_and_opens_monitor(home):
    at = _open()
    at.selectbox(key="bench_model").set_value("tiny").run()
    at.slider(key="bench_limit").set_value(5).run()
    at.number_input(key="bench_samples").set_value(3).run()
    at.slider(key="bench_temperature").set_value(0.8).run()
    at.button(key="bench_run").click().run()
    assert not at.exception
    [job] = _queued()
    cfg = jobs.get(job["id"])["config"]
    assert cfg["model"]["name"] == "tiny"
    assert cfg["benchmark"]["name"] == "humaneval"
    assert (cfg["benchmark"]["limit"], cfg["benchmark"]["samples"], cfg["benchmark"]["k"]) == (5, 3, [1, 3])
    assert cfg["benchmark"]["temperature"] == 0.8
    assert at.title[0].value == "Monitor"  # switched
    assert at.selectbox(key="mon_job").value == job["id"]


def test_vlm_job_with_a_tiny_model_of_the_wrong_type_is_refused(home):
    at = _open("vlm", typed_model="tiny-whisper")
    assert at.selectbox(key="bench_model").value == "tiny-whisper"
    at.button(key="bench_run").click().run()
    assert not at.exception
    assert "tiny-whisper cannot run Vision-language benchmarks" in at.error[0].value
    assert _queued() == []
    assert at.title[0].value == "Benchmark"


def test_bad_adapter_path_names_the_field_and_queues_nothing(home, tmp_path):
    at = _open()
    at.text_input(key="bench_adapter").input(str(tmp_path / "missing")).run()
    at.button(key="bench_run").click().run()
    assert not at.exception
    assert "model.adapter" in at.error[0].value
    assert _queued() == []


def test_uncached_hub_model_is_refused_before_queueing(home):
    at = _open("agentic", typed_model="my-org/my-tool-model")
    at.button(key="bench_run").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "model.name: 'my-org/my-tool-model' is not in the Hugging Face cache and the hub cannot "
        "be reached, so it cannot load here; choose a cached model, a local directory or a tiny "
        "model"]
    assert _queued() == []


def test_suite_of_benchmarks_is_one_job(home):
    at = _open()
    at.multiselect(key="bench_names").select("mbpp").run()
    at.button(key="bench_run").click().run()
    assert not at.exception
    [job] = _queued()
    assert jobs.get(job["id"])["config"]["benchmark"]["name"] == "humaneval,mbpp"


def test_typed_model_id_is_accepted(home, monkeypatch):
    from core.models import loading

    monkeypatch.setattr(loading, "_in_hub_cache", lambda name: name == "my-org/my-tool-model")
    at = _open("agentic", typed_model="my-org/my-tool-model")
    at.checkbox(key="bench_all").check().run()
    at.button(key="bench_run").click().run()
    assert not at.exception
    [job] = _queued()
    cfg = jobs.get(job["id"])["config"]
    assert cfg["model"]["name"] == "my-org/my-tool-model"
    assert cfg["benchmark"]["name"] == "xlam" and cfg["benchmark"]["limit"] is None


def test_compare_queues_base_and_adapter_jobs(home, tmp_path):
    adapter = _adapter(tmp_path)
    at = _open()
    at.selectbox(key="bench_model").set_value("tiny").run()
    at.text_input(key="bench_adapter").input(str(adapter)).run()
    assert not at.button(key="bench_compare").disabled
    at.button(key="bench_compare").click().run()
    assert not at.exception
    second, first = _queued()  # newest first
    base, tuned = jobs.get(first["id"])["config"], jobs.get(second["id"])["config"]
    assert base["model"]["name"] == tuned["model"]["name"] == "tiny"
    assert base["model"].get("adapter") is None and tuned["model"]["adapter"] == str(adapter)
    assert base["benchmark"] == tuned["benchmark"]
    assert at.title[0].value == "Monitor"


def test_compare_from_a_training_runs_adapter_uses_its_base(home, tmp_path, monkeypatch):
    from core.models import loading

    monkeypatch.setattr(loading, "_in_hub_cache", lambda name: True)  # as if downloaded before
    adapter = _adapter(tmp_path, base="Qwen/Qwen2.5-Coder-0.5B-Instruct")
    at = _open("code", typed_model=str(adapter))
    at.button(key="bench_compare").click().run()
    assert not at.exception
    second, first = _queued()
    assert jobs.get(first["id"])["config"]["model"]["name"] == "Qwen/Qwen2.5-Coder-0.5B-Instruct"
    tuned = jobs.get(second["id"])["config"]["model"]
    assert (tuned["name"], tuned["adapter"]) == ("Qwen/Qwen2.5-Coder-0.5B-Instruct", str(adapter))


def test_finished_training_runs_appear_as_models(home, tmp_path):
    from pathlib import Path

    from core import ledger

    adapter = _adapter(tmp_path)
    job_id = jobs.submit("command", {"command": ["true"]})
    with ledger.writer() as conn:  # a finished SFT job as the supervisor leaves it
        conn.exec_driver_sql("UPDATE job SET kind='sft', status='COMPLETED', name='my sft' WHERE id=?", (job_id,))
    (Path(jobs.get(job_id)["job_dir"]) / "summary.json").write_text(json.dumps({"adapter": str(adapter)}))
    at = _open()
    assert f"#{job_id} my sft · adapter" in at.selectbox(key="bench_model").options
    at.selectbox(key="bench_model").set_value(str(adapter)).run()
    assert not at.button(key="bench_compare").disabled  # an adapter as the model can be compared
    at.button_group(key="bench_type").set_value("vlm").run()
    assert f"#{job_id} my sft · adapter" not in at.selectbox(key="bench_model").options


def test_trust_remote_code_warns_and_reaches_the_config(home):
    from core import forms, jobs

    at = _open()
    assert forms.TRUST_WARNING not in [w.value for w in at.warning]
    at.checkbox(key="bench_trust_remote_code").check().run()
    assert forms.TRUST_WARNING in [w.value for w in at.warning]
    at.button(key="bench_run").click().run()
    job = jobs.list_jobs()[0]
    assert json.loads(job["config"])["model"]["trust_remote_code"] is True


def test_a_benchmarks_own_webhook_goes_beside_the_job(home):
    from core import credentials

    at = _open()
    at.text_input(key="bench_notify_url").input("https://hooks.example/bench/k").run()
    at.button(key="bench_run").click().run()
    job = jobs.list_jobs()[0]
    assert credentials.notify_url(job["job_dir"]) == "https://hooks.example/bench/k"


def test_a_type_registered_at_run_time_is_offered_and_queued(home, monkeypatch, tmp_path):
    """One registry entry (and a benchmark of it) is all the page needs: nothing else names
    the types."""
    kind = catalogue.BenchmarkType("echo", "Echo (test type)", "core.benchmarks.runner:run_agentic",
                                   max_new_tokens=7, presets=("org/echo-1b",), tiny_models=("tiny",))
    bench = catalogue.Benchmark("echo-bench", "Echo bench", "echo", "org/echo", "test", ("exact",),
                                "exact", sample=str(tmp_path / "echo.jsonl"))
    monkeypatch.setitem(catalogue.TYPES, "echo", kind)
    monkeypatch.setitem(catalogue.BENCHMARKS, bench.name, bench)
    at = _open()
    assert at.button_group(key="bench_type").options[-1] == "Echo (test type)"
    at.button_group(key="bench_type").set_value("echo").run()
    assert not at.exception
    assert at.multiselect(key="bench_names").options == ["Echo bench"]
    assert at.selectbox(key="bench_model").options == ["tiny", "org/echo-1b"]
    assert "bench_samples" not in {w.key for w in at.number_input}  # not a verified type
    assert at.number_input(key="bench_max_new_tokens_echo").value == 7
    at.button(key="bench_run").click().run()
    assert not at.exception
    [job] = _queued()
    cfg = jobs.get(job["id"])["config"]
    assert (cfg["model"]["name"], cfg["benchmark"]["name"]) == ("tiny", "echo-bench")
    assert cfg["benchmark"]["max_new_tokens"] == 7 and cfg["benchmark"]["samples"] == 1
