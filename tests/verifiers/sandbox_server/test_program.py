"""The program side's rebuilding of the tests' own objects (harness.enc_arg -> builder)."""
from __future__ import annotations

import pytest

from core.verifiers.sandbox_server.codec import NotPlain
from core.verifiers.sandbox_server.harness import TESTS_MODULE, enc_arg
from core.verifiers.sandbox_server.program import builder


def class_of_the_tests(source: str, name: str) -> type:
    ns = {"__name__": TESTS_MODULE}
    exec(source, ns)
    return ns[name]


RECT = "class Rect:\n    def __init__(self, w, h):\n        self.w, self.h = w, h\n"


def test_a_tests_object_crosses_as_its_class_name_and_attributes():
    rect = class_of_the_tests(RECT, "Rect")(3, 4)
    assert enc_arg([rect]) == [{"o": ["Rect", {"d": [["w", 3], ["h", 4]]}]}]


def test_other_objects_still_do_not_cross():
    class Local:  # defined here, not by the problem's setup or tests
        pass

    with pytest.raises(NotPlain):
        enc_arg(Local())
    slotted = class_of_the_tests("class P:\n    __slots__ = ('x',)\n", "P")()
    with pytest.raises(NotPlain):
        enc_arg(slotted)


def test_the_program_rebuilds_it_from_its_own_class():
    program_ns: dict = {}
    exec(RECT + "def area(r):\n    return r.w * r.h\n", program_ns)
    rect = builder(program_ns)("Rect", {"w": 3, "h": 4})
    assert type(rect) is program_ns["Rect"] and program_ns["area"](rect) == 12
    with pytest.raises(TypeError, match="no class 'Square'"):
        builder(program_ns)("Square", {})
