"""Verifiers: sandboxed code and math scoring (see base.py for the interface, registry.py for
the list). Light: importing this package imports nothing heavy."""
from core.verifiers.base import TestResult, Verdict, Verifier

__all__ = ["TestResult", "Verdict", "Verifier"]
