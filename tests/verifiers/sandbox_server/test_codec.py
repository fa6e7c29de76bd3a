"""The value codec between the program (U) and the harness (T): round trips, handles, and
frames a hostile program could send."""
from __future__ import annotations

import math

import pytest

from core.verifiers.sandbox_server.codec import NotPlain, decode, encode
from core.verifiers.sandbox_server.wire import RpcBroken


def no_refs(h):
    raise AssertionError(f"no handle expected, got {h}")


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 1 << 600, -(1 << 700), 1.5, "text", "", [], (), {},
    [1, (2, 3), {"a": [4]}], {(1, 2): {"x": frozenset({3})}}, {1, 2, 3}, frozenset(),
    b"\x00\xffbytes", 2 + 3j, {"nested": [[[(1,)]]]},
])
def test_plain_values_round_trip_with_their_types(value):
    back = decode(encode(value), no_refs)
    assert back == value and type(back) is type(value)


def test_non_finite_floats_round_trip():
    assert math.isnan(decode(encode(float("nan")), no_refs))
    assert decode(encode(float("inf")), no_refs) == float("inf")
    assert decode(encode(float("-inf")), no_refs) == float("-inf")


def test_bool_stays_bool_and_int_stays_int():
    # True == 1 in Python: the codec must still keep them apart (a test may check the type).
    assert decode(encode([True, 1]), no_refs) == [True, 1]
    assert [type(v) for v in decode(encode([True, 1]), no_refs)] == [bool, int]


def test_objects_cross_only_as_handles():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    kept = []
    enc = encode([AlwaysEqual(), 3], ref=lambda obj: kept.append(obj) or len(kept) - 1)
    assert enc == [{"r": 0}, 3] and isinstance(kept[0], AlwaysEqual)
    assert decode(enc, lambda h: ("handle", h)) == [("handle", 0), 3]
    with pytest.raises(NotPlain):  # without a ref function nothing but plain data crosses
        encode(AlwaysEqual())


def test_subclasses_become_their_plain_base():
    class MyInt(int):
        def __eq__(self, other):
            return True

    class MyList(list):
        pass

    enc = encode([MyInt(5), MyList([1])], ref=lambda obj: 0)
    back = decode(enc, no_refs)
    assert back == [5, [1]] and type(back[0]) is int and type(back[1]) is list


@pytest.mark.parametrize("frame", [
    {"t": [1], "d": []},  # two tags
    {"zz": 1},  # unknown tag
    {"d": [[[1], 2]]},  # unhashable key
    {"b": "not base64!!"},
    {"f": "1e999999"},  # only nan/inf/-inf are allowed there
    {"r": "0"},  # handles are ints
    {"i": "xyz"},
    "ok", 1, {"c": ["a", "b"]},
])
def test_malformed_frames_are_refused_not_executed(frame):
    if not isinstance(frame, dict):  # plain scalars are values
        assert decode(frame, no_refs) == frame
        return
    with pytest.raises(RpcBroken):
        decode(frame, no_refs)


def test_nesting_is_bounded_both_ways():
    deep: list = []
    cur = deep
    for _ in range(300):
        cur.append([])
        cur = cur[0]
    with pytest.raises(NotPlain):
        encode(deep)
    frame: object = 1
    for _ in range(300):
        frame = [frame]
    with pytest.raises(RpcBroken):
        decode(frame, no_refs)


def test_an_instance_of_the_tests_classes_is_built_only_on_the_programs_side():
    frame = {"t": [{"o": ["Rect", {"d": [["width", 3], ["height", 4]]}]}, 5]}
    built = []

    def build(name, attributes):
        built.append((name, attributes))
        return "an instance"

    assert decode(frame, no_refs, 0, build) == ("an instance", 5)
    assert built == [("Rect", {"width": 3, "height": 4})]
    with pytest.raises(RpcBroken):  # the harness decodes without `build`: a program sending
        decode(frame, no_refs)      # this tag gets nothing built on the trusted side
