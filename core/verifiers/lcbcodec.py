"""The LiveCodeBench test-case codec, in one place (datasets, the verifier and the CLI use it).

Upstream stores public tests as a JSON string and private tests compressed as
base64(zlib(pickle(json string))). Stdlib only.
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import zlib
from typing import Any


class LcbCodecError(ValueError):
    """A LiveCodeBench test field or metadata that does not decode; one sentence."""


class _StringsOnly(pickle.Unpickler):
    # A pickle of a plain str needs no class look-up, so refusing every class keeps hub data
    # from running code while still reading the real format.
    def find_class(self, module: str, name: str) -> Any:
        raise LcbCodecError(f"refusing to unpickle {module}.{name} in LiveCodeBench tests")


def decode_tests(raw: str | list) -> list[dict]:
    """A test-case field (a list, plain JSON or the compressed form) as a list of
    {"input", "output", "testtype"}."""
    if isinstance(raw, list):
        return raw
    if not isinstance(raw, str):
        raise LcbCodecError("LiveCodeBench test cases must be a JSON string or a list")
    if not raw.strip():
        return []
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        try:
            text = _StringsOnly(io.BytesIO(zlib.decompress(base64.b64decode(raw)))).load()
            data = json.loads(text)
        except (binascii.Error, zlib.error, pickle.UnpicklingError, EOFError, TypeError,
                json.JSONDecodeError) as exc:
            raise LcbCodecError("LiveCodeBench test cases are neither JSON nor the compressed "
                                f"upstream form ({type(exc).__name__})") from None
    if not isinstance(data, list):
        from core.jsonl import json_type

        raise LcbCodecError(f"LiveCodeBench tests must be a list, got {json_type(data)}")
    return data


def encode_tests(tests: list[dict]) -> str:
    """The compressed upstream form of a test list (inverse of decode_tests)."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode("ascii")


def test_cases(record: dict, public_only: bool = False) -> list[dict]:
    """Public then private tests of a record."""
    cases = decode_tests(record.get("public_test_cases") or "[]")
    if not public_only:
        cases += decode_tests(record.get("private_test_cases") or "[]")
    return cases


def func_name(record: dict) -> str | None:
    """The method to call for functional (LeetCode-style) problems, else None."""
    meta = record.get("metadata") or "{}"
    try:
        meta = json.loads(meta) if isinstance(meta, str) else meta
    except ValueError:
        raise LcbCodecError("LiveCodeBench metadata is not JSON") from None
    return meta.get("func_name") if isinstance(meta, dict) else None
