"""The shipped SkinPen question set against its clinical specification (no database needed)."""

import datetime
import json
import re
from pathlib import Path
from typing import Any

import pytest

from intake import rules
from intake.rules.cases import parse_cases, run_case

FOLDER = Path(__file__).resolve().parent.parent / "intake" / "question_sets"
DOCUMENT = json.loads((FOLDER / "skinpen.json").read_text(encoding="utf-8"))
CASES = parse_cases(json.loads((FOLDER / "skinpen.cases.json").read_text(encoding="utf-8")))

# Every screening id of the specification's tables A–F (§3.1–3.6).
SPEC_FLAG_CODES = {
    "age_eligibility", "pregnancy_breastfeeding", "oral_isotretinoin", "blood_thinning_medicine",
    "immunosuppression", "chemo_radiotherapy", "topical_retinoid_acid", "nsaids_supplements",
    "bleeding_disorder", "keloid_scarring", "skin_cancer", "changing_lesion",
    "active_skin_infection", "broken_or_irritated_skin", "active_acne",
    "inflammatory_skin_condition", "autoimmune_connective_tissue", "diabetes_wound_healing",
    "metal_allergy", "anaesthetic_allergy", "skincare_product_allergy", "numbing_cream_caution",
    "previous_microneedling_reaction", "pih_risk", "melasma", "tattoo_pmu_in_area",
    "cold_sore_active", "cold_sore_history", "recent_toxin", "dermal_filler_in_area",
    "surgery_in_area", "recent_skin_procedure", "hair_removal", "sun_tanning", "upcoming_event",
    "neck_outside_cleared_skin_types",
}  # fmt: skip

# The specification's §7 parameters and their defaults.
SPEC_PARAMETERS = {
    "MIN_AGE": 18, "LABEL_AGE": 22, "ISOTRETINOIN_BLOCK_MONTHS": 6,
    "ISOTRETINOIN_REVIEW_MONTHS": 12, "SURGERY_MONTHS": 12, "DEEP_PROCEDURE_MONTHS": 3,
    "LIGHT_PROCEDURE_DAYS": 28, "TOXIN_BEFORE_DAYS": 28, "INJECTABLES_AFTER_DAYS": 14,
    "FILLER_REVIEW_MONTHS": 12, "CHEMO_REVIEW_MONTHS": 6, "RETINOID_STOP_DAYS": 7,
    "RETINOID_RESTART_DAYS": 7, "HAIR_REMOVAL_DAYS": 7, "SUN_TAN_DAYS": 14, "NSAID_DAYS": 7,
    "ASPIRIN_DAYS": 14, "EVENT_DAYS": 7, "COLD_SORE_HEALING_CHECK_DAYS": 28,
}  # fmt: skip


def questions() -> list[dict[str, Any]]:
    return [q for section in DOCUMENT["sections"] for q in section["questions"]]


def referenced_questions(condition: Any) -> set[str]:
    if isinstance(condition, dict):
        found = {condition["q"]} if "q" in condition else set()
        for value in condition.values():
            found |= referenced_questions(value)
        return found
    if isinstance(condition, list):
        return set().union(*(referenced_questions(item) for item in condition))
    return set()


def test_the_skinpen_set_passes_every_publishing_check():
    assert rules.validate(DOCUMENT) == []


def test_every_screening_item_of_the_specification_has_rules():
    assert {rule["flag"] for rule in DOCUMENT["rules"]} == SPEC_FLAG_CODES


def test_every_parameter_of_the_specification_is_named_with_its_default():
    values = {name: spec["value"] for name, spec in DOCUMENT["parameters"].items()}
    assert values == SPEC_PARAMETERS


def test_a_patient_can_finish_it_one_section_at_a_time():
    assert 6 <= len(DOCUMENT["sections"]) <= 9


def test_free_text_answers_never_raise_a_flag():
    text_keys = {q["key"] for q in questions() if q["type"] in {"short_text", "long_text"}}
    read_by_rules = set().union(*(referenced_questions(rule["when"]) for rule in DOCUMENT["rules"]))
    assert text_keys, "the set asks for free text (other medicines, other conditions)"
    assert not text_keys & read_by_rules


def test_no_clinical_number_is_buried_in_a_condition():
    def literals(condition: Any) -> list[Any]:
        if isinstance(condition, dict):
            found = [v for k, v in condition.items() if k in {"days", "months", "age_under"}]
            found = [v for v in found if not isinstance(v, str)]
            return found + [x for v in condition.values() for x in literals(v)]
        if isinstance(condition, list):
            return [x for item in condition for x in literals(item)]
        return []

    conditions = [r["when"] for r in DOCUMENT["rules"]] + [q.get("show_if") for q in questions()]
    assert literals(conditions) == []


def test_every_rule_has_its_messages_and_sources():
    for rule in DOCUMENT["rules"]:
        assert rule["practitioner_message"].strip(), rule["id"]
        assert rule["sources"], rule["id"]
        assert set(rule["sources"]) <= set(DOCUMENT["sources"]), rule["id"]


def test_the_cases_cover_every_flag_code_and_patients_without_flags():
    expected = set().union(*(case.codes for case in CASES))
    assert expected == SPEC_FLAG_CODES
    assert sum(1 for case in CASES if not case.expect) >= 3


def test_every_case_states_the_tier_of_each_flag_it_expects():
    assert all(flag.tier is not None for case in CASES for flag in case.expect)


def test_the_cases_expect_every_rule_at_its_own_tier():
    # Each rule, "not possible" and "need to know" alike for a code that has both, is the
    # reason some case passes: a rule moved to another tier fails at least one case.
    rules_at_tiers = {(rule["flag"], rule["tier"]) for rule in DOCUMENT["rules"]}
    expected = {(flag.code, flag.tier) for case in CASES for flag in case.expect}
    assert rules_at_tiers <= expected


@pytest.fixture(scope="module")
def definition() -> rules.Definition:
    return rules.load_definition(DOCUMENT)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_skinpen_case(definition, case):
    result = run_case(definition, case)

    assert result.passed, result.describe()


def test_cutting_the_isotretinoin_wait_to_3_months_fails_the_cases_that_state_not_possible():
    weakened = json.loads(json.dumps(DOCUMENT))
    weakened["parameters"]["ISOTRETINOIN_BLOCK_MONTHS"]["value"] = 3
    definition = rules.load_definition(weakened)

    results = {case.name: run_case(definition, case) for case in CASES}
    failed = {name: result for name, result in results.items() if not result.passed}

    short = next(name for name in failed if "one day short of 6 months" in name)
    assert failed[short].missing == failed[short].unexpected == ()
    assert failed[short].differences == (
        "oral_isotretinoin: expected Not possible, raised Need to know",
    )
    assert len(failed) >= 3


def test_cutting_the_isotretinoin_wait_to_3_months_changes_every_text_that_states_it():
    weakened = json.loads(json.dumps(DOCUMENT))
    weakened["parameters"]["ISOTRETINOIN_BLOCK_MONTHS"]["value"] = 3
    before = rules.load_definition(DOCUMENT)
    after = rules.load_definition(weakened)

    guidance = {rule.id: rule.patient_guidance for rule in after.rules if "isotretinoin" in rule.id}
    assert len(guidance) == 4
    assert all("at least 3 months after your last dose" in text for text in guidance.values())
    changed = [
        (old.id, old.practitioner_message, new.practitioner_message)
        for old, new in zip(before.rules, after.rules, strict=True)
        if old.practitioner_message != new.practitioner_message
    ]
    assert [rule_id for rule_id, *_ in changed] == [
        "isotretinoin_within_block",
        "isotretinoin_review_band",
    ]
    assert "dose under 3 months before the treatment date" in changed[0][2]
    assert "Rebook from 3 months after the last dose" in changed[0][2]
    # What SkinPen's own instructions say stays as they say it.
    assert "SkinPen patient instructions say wait at least 6 months" in changed[0][2]
    assert "dose 3–12 months before the treatment date" in changed[1][2]


# Figures that happen to equal a parameter's value but state a source's finding, not the
# clinic's setting: they stay as the source gives them.
SOURCE_FIGURES = {
    "isotretinoin_within_block": ["SkinPen patient instructions say wait at least 6 months"],
    "isotretinoin_review_band": ["the traditional 6–12-month caution"],
    "filler_recent": ["Sources range from 2 weeks to 12 months"],
    "surgery_in_area_recent": ["several protocols exclude facial surgery within 12 months"],
    "surgical_scar_recent": ["several protocols exclude facial surgery within 12 months"],
    "recent_toxin": ["Sources range from 2 weeks to 6 months"],
}


def _stated(value: int, unit: str) -> list[str]:
    """The ways a text could state a parameter's value without naming it."""
    ways = [f"{value} {unit}", f"{value}-{unit.removesuffix('s')}"]
    if unit == "days" and value % 7 == 0:
        ways += [f"{value // 7} weeks", f"{value // 7} week"]
    return ways


def test_no_rule_text_states_the_value_of_a_parameter_its_condition_uses():
    values = {name: spec["value"] for name, spec in DOCUMENT["parameters"].items()}
    messages = {rule["id"]: rule["practitioner_message"] for rule in DOCUMENT["rules"]}
    assert all(p in messages[r] for r, phrases in SOURCE_FIGURES.items() for p in phrases)
    for rule in DOCUMENT["rules"]:
        used = re.findall(r'"(days|months)": "([A-Z_]+)"', json.dumps(rule["when"]))
        for field in ("practitioner_message", "patient_guidance"):
            text = rule.get(field, "")
            for phrase in SOURCE_FIGURES.get(rule["id"], []):
                text = text.replace(phrase, "")
            for unit, name in used:
                stated = [way for way in _stated(values[name], unit) if way in text]
                assert stated == [], (rule["id"], field, name, stated)


@pytest.mark.parametrize(
    "path",
    [FOLDER / "skinpen.json", Path(__file__).parent / "question_sets" / "dermal_filler.json"],
    ids=["skinpen", "dermal_filler"],
)
def test_every_question_names_itself_in_its_error_messages(path):
    definition = rules.load_definition(json.loads(path.read_text(encoding="utf-8")))

    unnamed = [key for key, question in definition.questions.items() if not question.short_name]

    assert unnamed == []
    assert definition.questions["date_of_birth"].missing_answer_message == (
        "Enter your date of birth"
    )


def test_a_short_name_gives_its_period_as_patients_read_it():
    definition = rules.load_definition(DOCUMENT)

    assert definition.questions["isotretinoin_last_12_months"].missing_answer_message == (
        "Select whether you have taken isotretinoin or another retinoid tablet in the last "
        "12 months"
    )


def test_an_under_18_is_stopped_at_the_details_step_with_the_clinics_words():
    definition = rules.load_definition(DOCUMENT)
    on = {"submitted_on": datetime.date(2026, 5, 1), "reference_date": datetime.date(2026, 6, 1)}

    (stopped,) = rules.check_eligibility(definition, {"date_of_birth": "2008-06-02"}, **on)

    assert (stopped.code, stopped.tier) == ("age_eligibility", rules.Tier.NOT_POSSIBLE)
    assert stopped.patient_guidance == "We only offer microneedling to adults aged 18 and over."
    assert rules.check_eligibility(definition, {"date_of_birth": "2008-06-01"}, **on) == ()
    # An 18-year-old is below the label age, a need-to-know flag for later: not stopped.
    assert rules.check_eligibility(definition, {"date_of_birth": "2007-06-01"}, **on) == ()
