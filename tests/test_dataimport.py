"""core.dataimport: good files land whole; malformed ones fail naming the line and column and
leave nothing behind."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import datasets as ds
from core import dataimport as di

FIX = Path(__file__).parent / "fixtures" / "imports"


def _files(home) -> list[str]:
    return sorted(p.name for p in (home / "datasets").iterdir()) if (home / "datasets").exists() else []


def test_jsonl_with_other_column_names_maps_to_instruction(home):
    table = di.read(FIX / "good.jsonl")
    assert table.columns == ["question", "context", "answer"]
    assert table.types == {"question": "a string", "context": "a string", "answer": "a string"}
    mapping = di.suggest(table)
    assert mapping == {"format": "instruction",
                       "columns": {"instruction": "question", "input": "context",
                                   "output": "answer"}}
    path, count, _ = di.import_file(FIX / "good.jsonl", "arith")
    assert count == 3 and path == home / "datasets" / "arith.jsonl"
    records = ds.validate_file(path, "instruction")
    assert records[1] == {"instruction": "Reverse the word 'forge'.",
                          "input": "Answer with the word only.", "output": "egrof"}
    # The catalogue sees it like any local file, and SFT formats it.
    assert ds.peek_schema(path) == "instruction"
    assert ds.to_messages("instruction", records[0])[-1] == {"role": "assistant", "content": "5"}


def test_csv_with_multiline_cells_maps_to_preference(home):
    table = di.read(FIX / "good.csv")
    assert [w for w, _ in table.rows] == ["line 2", "line 3", "line 7"]  # where each row starts
    mapping = di.suggest(table)
    assert mapping["format"] == "preference"
    path, count, _ = di.import_file(FIX / "good.csv", "prefs")
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert count == 3 and lines[1]["chosen"].count("\n") == 2
    assert lines[2] == {"prompt": "Say hi.", "chosen": "Hi!", "rejected": "Goodbye."}


def test_parquet_upload_bytes_with_a_message_column(home, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    conv = [[{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]
            for i in range(4)]
    pq.write_table(pa.table({"conversation": conv, "id": list(range(4))}), tmp_path / "c.parquet")
    data = (tmp_path / "c.parquet").read_bytes()
    table = di.read(data, "c.parquet")  # what a browser upload hands over
    assert table.types["conversation"] == "a list" and table.types["id"] == "an integer"
    mapping = di.suggest(table)
    assert mapping == {"format": "chat", "columns": {"messages": "conversation"}}
    path, count, _ = di.import_file(data, "convs", filename="c.parquet")
    assert count == 4 and ds.peek_schema(path) == "chat"


@pytest.mark.parametrize("name, mapping, message", [
    ("bad_json.jsonl", None, r"^line 3: invalid JSON"),
    ("bad_field.jsonl", None, r"^line 2: column 'output' \(for 'output'\) must be text, got a list"),
    ("bad_columns.csv", None, r"^line 3: 3 values but the header has 2 columns"),
    ("bad_messages.jsonl", None, r"^line 2: column 'messages' message 1 needs a role"),
    ("good.jsonl", {"format": "instruction", "columns": {"instruction": "question",
                                                         "output": "nope"}},
     r"column 'nope' \(for 'output'\) is not in the file"),
    ("good.jsonl", {"format": "instruction", "columns": {"instruction": "question"}},
     r"map a column to 'output'"),
])
def test_malformed_files_name_line_and_field_and_leave_nothing(home, name, mapping, message):
    (home / "datasets").mkdir(exist_ok=True)
    (home / "datasets" / "keep.jsonl").write_text('{"instruction": "a", "output": "b"}\n')
    with pytest.raises(di.ImportFailure, match=message):
        di.import_file(FIX / name, "keep", mapping=mapping, replace=True)
    assert _files(home) == ["keep.jsonl"]  # the old file is intact and no temp file is left
    assert (home / "datasets" / "keep.jsonl").read_text() == '{"instruction": "a", "output": "b"}\n'


def test_names_types_and_existing_datasets_are_checked(home, tmp_path):
    with pytest.raises(di.ImportFailure, match="name must be"):
        di.import_file(FIX / "good.jsonl", "../escape")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(di.ImportFailure, match="unsupported file type '.txt'"):
        di.read(tmp_path / "x.txt")
    di.import_file(FIX / "good.jsonl", "twice")
    with pytest.raises(di.ImportFailure, match="already exists"):
        di.import_file(FIX / "good.jsonl", "twice")
    assert di.parse_map("output=answer, instruction=question") == {
        "output": "answer", "instruction": "question"}
    with pytest.raises(di.ImportFailure, match="FIELD=COLUMN"):
        di.parse_map("output")


def test_hub_rows_are_read_in_a_child_process_with_the_datasets_library(home, tmp_path):
    # A local dataset folder goes through the same child and the same load_dataset call as a
    # hub id (only the download is not exercised here: no network).
    from core import hubpeek

    folder = tmp_path / "someset"
    folder.mkdir()
    (folder / "train.jsonl").write_text("".join(
        json.dumps({"question": f"q{i}", "answer": f"a{i}"}) + "\n" for i in range(10)))
    rows = hubpeek.rows(str(folder), split="train", limit=4)
    assert rows == [{"question": f"q{i}", "answer": f"a{i}"} for i in range(4)]
    table = di.from_rows(rows, "someset")
    assert di.suggest(table)["columns"] == {"instruction": "question", "input": None,
                                            "output": "answer"}
    with pytest.raises(ds.DatasetError, match="^offline: 'owner/set' cannot be read"):
        hubpeek.rows("owner/set")
