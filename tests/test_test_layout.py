"""The test suite's own layout: shared helpers live in tests/factories.py, not in test modules.

A test module that imports another depends on that module's helpers staying where they are, and
a change to one module's tests then breaks modules that have nothing to do with it.
"""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imports_of_test_modules(path: Path) -> list[str]:
    """The imports in a file that reach a test module (test_*.py), anywhere in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # `from . import test_x` and `from browser import test_x` name it after `import`.
            base = "." * node.level + (node.module or "")
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        if any(part.startswith("test_") for name in names for part in name.split(".")):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_no_test_module_imports_another():
    found = {
        str(path.relative_to(TESTS)): imports_of_test_modules(path)
        for path in sorted(TESTS.rglob("test_*.py"))
    }

    assert {path: lines for path, lines in found.items() if lines} == {}


def test_the_layout_check_finds_every_kind_of_import(tmp_path):
    module = tmp_path / "test_example.py"
    module.write_text(
        "import test_a\n"
        "from test_b import helper\n"
        "from browser.test_c import helper\n"
        "from . import test_d\n"
        "def test_something():\n"
        "    from test_e import helper\n"
        "from factories import start\n"
        "from django.test import Client\n",
        encoding="utf-8",
    )

    found = imports_of_test_modules(module)

    assert [line.split(":")[0] for line in found] == [f"line {n}" for n in (1, 2, 3, 4, 6)]
