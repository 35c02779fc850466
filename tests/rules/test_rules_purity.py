import ast
from pathlib import Path

import intake.rules

PACKAGE = Path(intake.rules.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            modules.add(node.module)
    return modules


def test_the_rules_package_has_source_files_to_check():
    assert len(list(PACKAGE.glob("*.py"))) >= 5


def test_no_module_in_the_rules_package_imports_django():
    offenders = {
        f"{path.name}: {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for module in _imported_modules(path)
        if module == "django" or module.startswith("django.")
    }
    assert offenders == set()


def test_the_rules_package_imports_only_the_standard_library_and_itself():
    allowed_prefix = "intake.rules"
    outside = {
        module
        for path in PACKAGE.rglob("*.py")
        for module in _imported_modules(path)
        if not module.startswith(allowed_prefix) and module != "__future__"
    }
    import sys

    assert {module.split(".")[0] for module in outside} <= sys.stdlib_module_names
