"""What a failed `assert` compared: the test's comparisons rewritten to keep their operands.

`assert left <op> right[, msg]` (one comparison operator) becomes
`assert __halo_compare__(left, right, op, swap, line)[, msg]`: the helper (the harness's, see
Comparisons) evaluates `left <op> right` exactly as the statement would have (same operands,
same order, same operator, the same result object handed to the assert), and when that is
false it keeps the two values, so the verdict can say "expected 10, got 9". Only the
problem's own (trusted) test code is rewritten, never the program. Pure: the caller compiles
tests with it (codeutil) and so does the harness when it has to compile them itself.
"""
from __future__ import annotations

import ast
import operator
import reprlib

HELPER = "__halo_compare__"
SYMBOLS = ("==", "!=", "<", "<=", ">", ">=", "is", "is not", "in", "not in")
_NODES = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In,
          ast.NotIn)
_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
OPERATIONS = (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge,
              operator.is_, operator.is_not, lambda a, b: a in b, lambda a, b: a not in b)


class _Rewriter(ast.NodeTransformer):
    def visit_Assert(self, node: ast.Assert) -> ast.Assert:
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and \
                isinstance(test.ops[0], _NODES):
            left, right = test.left, test.comparators[0]
            # The side that calls something is what the program produced ("got").
            swap = _calls(right) and not _calls(left)
            at = lambda new: ast.copy_location(new, test)  # noqa: E731 - no tree-wide fix-up
            call = at(ast.Call(func=at(ast.Name(HELPER, ast.Load())),
                               args=[left, right, at(ast.Constant(_NODES.index(type(test.ops[0])))),
                                     at(ast.Constant(swap)), at(ast.Constant(node.lineno))],
                               keywords=[]))
            node.test = call
        return node


def _calls(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) for n in ast.walk(node))


def compile_test(source: str, filename: str):
    """Compile a test with its comparisons instrumented (see the module's docstring)."""
    if "assert" not in source:  # nothing to rewrite (a step of the tests)
        return compile(source, filename, "exec", dont_inherit=True)
    tree = _Rewriter().visit(ast.parse(source, filename))
    return compile(tree, filename, "exec", dont_inherit=True)


class Comparisons:
    """The helper the rewritten asserts call (bound in the tests' namespace as HELPER)."""

    def __init__(self) -> None:
        self.failed: tuple | None = None  # (left, right, op, swap, line) of the last false one

    def __call__(self, left, right, op: int, swap: bool, line: int):
        result = OPERATIONS[op](left, right)
        if not result:  # the assert evaluates the same object right after: it fails too
            self.failed = (left, right, op, swap, line)
        return result

    def explain(self, line: int | None, show) -> tuple[str, str, str]:
        """(expected, actual, one-line detail) for the false comparison on `line` (the line
        the assertion failed on), or empty strings. `show` turns a value into short text."""
        if self.failed is None or line is None or self.failed[4] != line:
            return "", "", ""
        left, right, op, swap, _ = self.failed
        symbol = SYMBOLS[op]
        if symbol == "==":
            expected, actual = (show(left), show(right)) if swap else (show(right), show(left))
            return expected, actual, f"expected {expected}, got {actual}"
        if swap:
            actual, other = show(right), show(left)
            expected = f"{_MIRROR[symbol]} {other}" if symbol in _MIRROR else \
                f"{other} {symbol} it"
        else:
            actual, other = show(left), show(right)
            expected = f"{symbol} {other}"
        return expected, actual, f"not {show(left)} {symbol} {show(right)}"


class _Short(reprlib.Repr):
    def __init__(self) -> None:
        super().__init__()
        self.maxstring, self.maxother, self.maxlong = 120, 80, 60
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdict = 10
        self.maxlevel = 4

    def repr_Remote(self, obj, level):  # noqa: N802 - reprlib's naming
        return "<an object of the program>"  # never a call into the program


_SHORT = _Short()


def show(value) -> str:
    """Short text of a value from a test or from the program: never more than ~300
    characters, never a call into the program (its objects stay opaque)."""
    try:
        return _SHORT.repr(value)[:300]
    except Exception:  # noqa: BLE001 - a value that cannot be shown is named by its type
        return f"<{type(value).__name__}>"
