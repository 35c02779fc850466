"""Clinical behaviour lives in the question sets, not in code.

No Python module of the app names a flag code of any question set it ships or tests with; tier
values appear only in the engine's tier scale; no template names a treatment.
"""

import ast
import json
from pathlib import Path

import pytest

from intake.rules import Tier

ROOT = Path(__file__).resolve().parent.parent
QUESTION_SETS = [
    *sorted((ROOT / "intake" / "question_sets").glob("*.json")),
    *sorted((ROOT / "tests" / "question_sets").glob("*.json")),
]
# Migrations record what earlier code did (0013 names the flags the code used to treat as
# cold-sore flags, to give them their declarations); they are history, not behaviour.
APP_CODE = [
    path
    for folder in ("intake", "clinic", "bench")
    for path in sorted((ROOT / folder).rglob("*.py"))
    if "migrations" not in path.parts
]
TIER_SCALE = ROOT / "intake" / "rules" / "definition.py"
TEMPLATES = [
    *sorted((ROOT / "templates").rglob("*.html")),
    *sorted((ROOT / "intake" / "templates").rglob("*.html")),
]


def flag_codes() -> set[str]:
    codes = set()
    for path in QUESTION_SETS:
        document = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and "rules" in document:
            codes |= {rule["flag"] for rule in document["rules"]}
    return codes


def treatments() -> set[str]:
    names = set()
    for path in QUESTION_SETS:
        document = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(document, dict):
            names.add((document.get("declarations") or {}).get("treatment", ""))
    return names - {""}


def strings(path: Path) -> list[tuple[int, str]]:
    return [
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def names_a_code(text: str, codes: set[str]) -> bool:
    """The text is a flag code, or a piece of one that code could match codes by ("cold_sore_")."""
    if text in codes:
        return True
    piece = len(text) >= 4 and (text.startswith("_") or text.endswith("_"))
    return piece and any(text in code for code in codes)


def test_the_question_sets_checked_have_flag_codes_and_treatments():
    assert len(QUESTION_SETS) >= 2
    assert {"cold_sore_history", "lip_herpes_history"} <= flag_codes()
    assert {"SkinPen", "dermal filler"} <= treatments()


def test_no_app_module_names_a_flag_code():
    codes = flag_codes()
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in APP_CODE
        for line, text in strings(path)
        if names_a_code(text, codes)
    ]
    assert found == []


def test_tier_values_appear_only_in_the_engines_tier_scale():
    values = {tier.value for tier in Tier}
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in APP_CODE
        if path != TIER_SCALE
        for line, text in strings(path)
        if text in values
    ]
    assert found == []


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_no_template_names_a_treatment_or_a_flag_code(template):
    text = template.read_text(encoding="utf-8")
    named = [name for name in treatments() | flag_codes() if name in text]
    assert named == []
