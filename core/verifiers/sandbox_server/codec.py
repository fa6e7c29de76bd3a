"""The value codec: how plain values cross between the program (U) and the test harness (T).

Values travel as tagged JSON (tuples, sets, dicts with any keys, bytes, big ints, non-finite
floats, complex). Anything that is not plain data stays in U and crosses as a handle
{"r": n}. Decoding never runs code and never builds anything but builtin types, so U cannot
smuggle an object (one that claims to equal everything, say) into the trusted harness. The
one exception goes the other way: an instance of the problem's own test classes, passed by
T into a call, is rebuilt in U from U's copy of the class (tag "o", decoded only where the
caller of decode gives a `build`, i.e. in U).
Pure: unit-tested in tests/verifiers/sandbox_server/test_codec.py."""
from __future__ import annotations

import base64
import math
import numbers

from .wire import RpcBroken


# Values cross between U and T as tagged JSON. Plain data only; anything else stays in U and
# crosses as a handle {"r": n}. Decoding never runs code, so U cannot smuggle objects (an
# "always equal" object, say) into the trusted harness.

class NotPlain(Exception):
    """Not plain data: it stays in the program and crosses as a handle."""


_BIG = 1 << 512


def encode(x, ref=None, depth: int = 0):
    """A value as tagged JSON. `ref` (the program's side only) turns what is not plain data
    into a handle; without it such a value raises NotPlain. Subclasses of plain types become
    their base value, computed here, so no method of theirs runs on the other side."""
    t = type(x)
    if x is None or t is bool or t is str:
        return x
    if t is int:
        return x if -_BIG < x < _BIG else {"i": format(x, "x")}
    if t is float:
        return x if math.isfinite(x) else {"f": repr(x)}
    if depth > 200:
        raise NotPlain("nested too deeply")
    d = depth + 1
    if t is list:
        return [encode(v, ref, d) for v in x]
    if t is tuple:
        return {"t": [encode(v, ref, d) for v in x]}
    if t is dict:
        return {"d": [[encode(k, ref, d), encode(v, ref, d)] for k, v in x.items()]}
    if t is set:
        return {"s": [encode(v, ref, d) for v in x]}
    if t is frozenset:
        return {"F": [encode(v, ref, d) for v in x]}
    if t is bytes:
        return {"b": base64.b64encode(x).decode()}
    if t is complex:
        return {"c": [encode(x.real), encode(x.imag)]}
    if ref is None:
        raise NotPlain(f"cannot pass a {t.__name__} across the sandbox boundary")
    # Subclasses and numpy-like scalars become their plain base value (computed in U).
    if isinstance(x, bool):
        return bool(x)
    if isinstance(x, numbers.Integral):
        return encode(int(x))
    if isinstance(x, numbers.Real):
        return encode(float(x))
    for base in (str, list, tuple, dict, set, frozenset, bytes):
        if isinstance(x, base):
            return encode(base(x), ref, d)
    return {"r": ref(x)}


def decode(v, resolve, depth: int = 0, build=None):
    """Tagged JSON back to a value; handles go through `resolve`. Builds nothing but builtin
    types and never runs code: anything malformed is RpcBroken (a broken program), never a
    value. `build(class name, attributes)`: only on the program's side, for instances of the
    tests' own classes the harness passes in (tag "o"); without it (the harness's side, what
    the program sends) that tag is refused like any unknown one."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if depth > 220:
        raise RpcBroken("value nested too deeply")
    d = depth + 1
    if isinstance(v, list):
        return [decode(e, resolve, d, build) for e in v]
    if not isinstance(v, dict) or len(v) != 1:
        raise RpcBroken("malformed value")
    (tag, val), = v.items()
    try:
        if tag == "t":
            return tuple(decode(e, resolve, d, build) for e in val)
        if tag == "d":
            return {decode(k, resolve, d, build): decode(e, resolve, d, build) for k, e in val}
        if tag == "s":
            return {decode(e, resolve, d, build) for e in val}
        if tag == "F":
            return frozenset(decode(e, resolve, d, build) for e in val)
        if tag == "o" and build is not None and type(val) is list and len(val) == 2 and \
                type(val[0]) is str:
            return build(val[0], decode(val[1], resolve, d, build))
        if tag == "b":
            return base64.b64decode(val)
        if tag == "c":
            return complex(float(val[0]), float(val[1]))
        if tag == "f" and val in ("nan", "inf", "-inf"):
            return float(val)
        if tag == "i":
            return int(val, 16)
        if tag == "r" and type(val) is int:
            return resolve(val)
    except RpcBroken:
        raise
    except Exception as exc:  # unhashable keys, bad base64, ...
        raise RpcBroken(f"malformed value: {exc}") from None
    raise RpcBroken(f"unknown value tag {tag!r}")
