"""Who may import whom inside intake/, as docs/architecture.md writes it down.

Every import in every module counts, those inside functions and behind TYPE_CHECKING included.
"""

import ast
from pathlib import Path

INTAKE = Path(__file__).resolve().parent.parent / "intake"
ARCHITECTURE = INTAKE.parent / "docs" / "architecture.md"

# Each part of intake/ by the module prefixes it holds; the first match wins.
PARTS = {
    "engine": ("intake.rules",),
    "models": ("intake.models",),
    "shared": ("intake.questionnaire", "intake.published"),
    "write path": ("intake.submissions",),
    "patient": ("intake.patient",),
    "review": ("intake.review",),
    "authoring": ("intake.authoring",),
    "records": ("intake.records",),
    "tasks": ("intake.tasks",),
    "entry points": (
        "intake.admin",
        "intake.management",
        "intake.templatetags",
        "intake.staff_access",
        "intake.apps",
        "intake.migrations",
        "intake",
    ),
}
CORE = {"engine", "models", "shared"}
# What each part may import from intake/ (besides itself).
MAY_IMPORT = {
    "engine": set(),
    "models": {"engine"},
    "shared": {"engine", "models"},
    "write path": CORE | {"tasks"},
    "patient": CORE | {"write path"},
    "review": CORE,
    "authoring": CORE,
    "records": CORE,
    "tasks": CORE | {"review", "records"},
    "entry points": set(PARTS),
}
# The one crossing between sides: "Preview as patient" takes steps as the patient's pages do.
# And the patient's re-check runs the rules again by the review's one re-evaluation path.
CROSSINGS = {
    ("intake.authoring.preview", "intake.patient.steps"),
    ("intake.submissions", "intake.review.rechecks"),
}
FORMS = ("django.forms", "crispy_forms")


def part_of(module: str) -> str:
    for part, prefixes in PARTS.items():
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return part
    raise KeyError(module)


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(INTAKE.rglob("*.py")):
        name = ".".join(path.relative_to(INTAKE.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path) -> set[str]:
    """Every module a file imports, with `from x import y` counted as x and as x.y."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_every_module_of_intake_belongs_to_a_part():
    every = modules()
    assert len(every) > 40
    for module in every:
        assert part_of(module)


def test_each_part_imports_only_what_the_architecture_allows():
    every = modules()
    wrong = set()
    for module, path in every.items():
        part = part_of(module)
        for imported in imports(path):
            # `from intake import published` names the package as well as the module.
            if imported == "intake" or imported not in every:
                continue
            other = part_of(imported)
            if other == part or other in MAY_IMPORT[part] or (module, imported) in CROSSINGS:
                continue
            wrong.add(f"{module} ({part}) imports {imported} ({other})")
    assert wrong == set()


def test_shared_modules_and_the_write_path_import_no_forms():
    every = modules()
    formless = [m for m in every if part_of(m) in ("shared", "write path")]
    assert formless
    wrong = {
        f"{module} imports {imported}"
        for module in formless
        for imported in imports(every[module])
        if imported.startswith(FORMS) or imported.endswith(".forms") or ".forms." in imported
    }
    assert wrong == set()


def test_exports_import_nothing_from_authoring():
    every = modules()
    wrong = {
        f"{module} imports {imported}"
        for module in every
        if module.startswith("intake.records")
        for imported in imports(every[module])
        if imported.startswith("intake.authoring")
    }
    assert wrong == set()


def test_the_architecture_document_names_every_part_it_rules_on():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    for part, prefixes in PARTS.items():
        if part == "entry points":
            continue
        assert f"| {part.capitalize()} |" in text
        for prefix in prefixes:
            assert f"`{prefix.replace('.', '/')}" in text, prefix


def test_the_readme_lists_every_part_of_intake_and_only_paths_that_exist():
    readme = (INTAKE.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("## What is here", 1)[1].split("\n## ", 1)[0]
    listed = {
        path.rstrip("/")
        for row in table.splitlines()
        if row.startswith("| `")
        for path in row.split("|")[1].replace("`", "").replace(",", " ").split()
    }
    for path in listed:
        assert (INTAKE.parent / path).exists(), path
    parts = {
        f"intake/{child.name}"
        for child in INTAKE.iterdir()
        if (child.is_dir() and (child / "__init__.py").exists() and child.name != "migrations")
        or (child.suffix == ".py" and child.name not in ("__init__.py", "apps.py"))
    }
    unlisted = {
        part for part in parts if not any(p == part or p.startswith(part + "/") for p in listed)
    }
    assert unlisted == set()


# What may keep data between requests in a process, and why (bench/notes.md has the figures).
KEEPERS = {
    "intake.published": "what is worked out per published version, the one owner of it",
    "intake.review.queue": "each date's text in the queue, keyed by date, language and zone",
}
CACHE_DECORATORS = {"cache", "lru_cache"}
EMPTY_CONTAINERS = {
    "dict",
    "OrderedDict",
    "defaultdict",
    "WeakKeyDictionary",
    "WeakValueDictionary",
}


def keeps_data(path: Path) -> set[str]:
    """Where a file keeps data per process: a memoising decorator, or a container at module level
    that starts empty (a cache fills later; a table of constants does not start empty)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = (
                    target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                )
                if name in CACHE_DECORATORS:
                    found.add(f"{node.name} (@{name})")
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        else:
            continue
        called = value.func if isinstance(value, ast.Call) and not value.args else None
        name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
        if (isinstance(value, ast.Dict) and not value.keys) or name in EMPTY_CONTAINERS:
            found.update(ast.unparse(target) for target in targets)
    return found


def test_only_the_named_modules_keep_data_between_requests():
    kept = {module: keeps_data(path) for module, path in modules().items()}
    assert {module for module, found in kept.items() if found} == set(KEEPERS)


def test_the_cache_check_finds_decorators_and_empty_containers(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import functools\n"
        "from collections import OrderedDict\n"
        "TABLE = {'a': 1}\n"
        "_seen: dict[str, int] = {}\n"
        "_recent = OrderedDict()\n"
        "@functools.lru_cache(maxsize=8)\n"
        "def label(key): return key\n"
        "@functools.cache\n"
        "def other(key): return key\n"
    )
    assert keeps_data(sample) == {"_seen", "_recent", "label (@lru_cache)", "other (@cache)"}
