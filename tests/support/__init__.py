"""Helpers shared by several test directories (not tests themselves).

Importable as ``tests.support`` because pytest puts the repository root on ``sys.path``
(``pythonpath = ["."]`` in pyproject.toml). Under ``--import-mode=importlib`` pytest
does not do that by itself, and test modules cannot import one another, so anything
two suites share lives here rather than in one suite's directory.
"""
