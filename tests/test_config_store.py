"""Saved configs: names confined to the configs folder, overwrite only when asked, delete."""
from __future__ import annotations

import os

import pytest

from core import config_store as store
from core.paths import configs_dir


def test_save_list_load_round_trip(home):
    path = store.save("my run", "kind: sft\n")
    assert path == configs_dir().resolve() / "my run.yaml"
    assert store.list_configs() == ["my run.yaml"]
    assert store.load("my run") == "kind: sft\n"
    assert store.load("my run.yaml") == "kind: sft\n"  # the suffix may be given
    assert store.exists("my run") and not store.exists("other")


def test_yml_suffix_is_kept_and_listing_skips_other_files(home):
    store.save("b.yml", "kind: raft")
    (configs_dir() / "notes.txt").write_text("x")
    (configs_dir() / ".hidden.yaml").write_text("x")
    store.save("A", "kind: sft")
    assert store.list_configs() == ["A.yaml", "b.yml"]
    assert store.load("b.yml") == "kind: raft\n"  # a final newline is added


@pytest.mark.parametrize("name, words", [
    ("", "must not be empty"),
    ("   ", "must not be empty"),
    ("../evil", "path separator"),
    ("sub/dir", "path separator"),
    ("back\\slash", "path separator"),
    ("..", "'..'"),
    ("a..b", "'..'"),
    (".hidden", "hidden"),
    ("_under", "letters, digits"),
    ("semi;colon", "letters, digits"),
    ("x" * 120, "at most 100"),
])
def test_bad_names_are_refused_and_nothing_is_written(home, name, words):
    with pytest.raises(store.ConfigStoreError) as exc:
        store.save(name, "kind: sft\n")
    assert words in str(exc.value)
    assert os.listdir(configs_dir()) == []
    assert not (home / "evil.yaml").exists()


def test_overwrite_needs_confirmation(home):
    store.save("run", "first\n")
    with pytest.raises(store.ConfigStoreError, match="already exists; confirm"):
        store.save("run", "second\n")
    assert store.load("run") == "first\n"  # nothing stored is lost
    store.save("run", "second\n", overwrite=True)
    assert store.load("run") == "second\n"
    assert [p for p in os.listdir(configs_dir()) if p.startswith(".tmp")] == []


def test_a_symlink_out_of_the_folder_is_refused(home, tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text("secret")
    (configs_dir() / "link.yaml").symlink_to(outside)
    with pytest.raises(store.ConfigStoreError, match="outside"):
        store.save("link", "overwritten", overwrite=True)
    assert outside.read_text() == "secret"


def test_delete_and_missing_configs(home):
    store.save("gone", "kind: sft")
    store.delete("gone")
    assert store.list_configs() == []
    with pytest.raises(store.ConfigStoreError, match="no saved config named 'gone.yaml'"):
        store.delete("gone")
    with pytest.raises(store.ConfigStoreError, match="no saved config"):
        store.load("gone")
