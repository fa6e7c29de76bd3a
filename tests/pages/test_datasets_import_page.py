"""AppTest for the Datasets page's "Add a dataset": a local file mapped, previewed with the
model's chat template, imported whole; malformed files and offline hub ids in one sentence."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import datasets as ds
from core.models.loading import resolve_model
from tests.conftest import REPO

PAGE = str(REPO / "pages/datasets.py")
FIX = Path(__file__).resolve().parent.parent / "fixtures" / "imports"


def _run_with_path(path: Path) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.text_input(key="ds_import_path").set_value(str(path)).run()
    assert not at.exception
    return at


def test_import_a_csv_as_preference_data_with_template_preview(home):
    resolve_model("tiny")  # the preview reads the tiny model's tokenizer and template
    at = _run_with_path(FIX / "good.csv")
    columns = next(d.value for d in at.dataframe if "column" in d.value)
    assert list(columns["column"]) == ["prompt", "chosen", "rejected"]
    assert at.radio(key="ds_import_format_good.csv").value == "preference"
    assert at.selectbox(key="ds_import_map_preference_chosen").value == "chosen"
    previews = [c.value for c in at.code]
    assert previews[0].startswith("<|im_start|>user\nName a colour.<|im_end|>")
    assert "<|im_start|>assistant\nBlue.<|im_end|>" in previews[0]
    assert len(at.get("vega_lite_chart")) == 1  # the token-length histogram
    at.text_input(key="ds_import_name").set_value("prefs").run()
    at.button(key="ds_import_go").click().run()
    assert [s.value for s in at.success][0].startswith("Imported 3 records as `prefs.jsonl`")
    lines = (home / "datasets" / "prefs.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0]) == {"prompt": "Name a colour.", "chosen": "Blue.",
                       "rejected": "I cannot answer that."}


def test_remapping_columns_changes_what_is_imported(home):
    at = _run_with_path(FIX / "good.jsonl")
    assert at.radio(key="ds_import_format_good.jsonl").value == "instruction"
    at.selectbox(key="ds_import_map_instruction_input").set_value("(none)").run()
    at.button(key="ds_import_go").click().run()
    rows = ds.validate_file(home / "datasets" / "good.jsonl")
    assert rows[1]["input"] == "" and rows[1]["output"] == "egrof"
    assert "No preview: the tiny model is not built yet" in at.warning[0].value


def test_malformed_file_shows_line_and_field_and_imports_nothing(home):
    at = _run_with_path(FIX / "bad_field.jsonl")
    assert [e.value for e in at.error] == [
        "line 2: column 'output' (for 'output') must be text, got a list"]
    assert "ds_import_go" not in [b.key for b in at.button]  # nothing to import
    assert not (home / "datasets").exists() or not list((home / "datasets").iterdir())


def test_hub_id_offline_is_one_sentence(home):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.text_input(key="ds_hub_id").set_value("someone/some-set").run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors == ["offline: 'someone/some-set' cannot be read from the Hugging Face hub "
                      "here (HF_HUB_OFFLINE is set or the hub is unreachable); import a local "
                      "file instead"]
