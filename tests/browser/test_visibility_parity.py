"""With JavaScript on, the page shows exactly the questions the server will ask.

Patients walk every SkinPen step in a real browser (Debian's Chromium): the complete example
patients of the test cases, one who answers "no" to everything and one who answers "yes"
wherever they can. After each answer, the questions the page shows must be those the rules engine
shows for the answers so far (`visible_questions`), on that step.
"""

import datetime
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from intake.models import import_document
from intake.rules import QuestionSpec, evaluate, load_definition, visible_questions

ROOT = Path(__file__).resolve().parents[2]
SKINPEN = ROOT / "intake" / "question_sets" / "skinpen.json"
CASES = SKINPEN.with_name("skinpen.cases.json")
DEFINITION = load_definition(json.loads(SKINPEN.read_text(encoding="utf-8")))
BIRTH = "date_of_birth"
ADULT = "1990-04-03"
# The whole walk, every patient, on a small shared machine.
TIME_LIMIT = 90

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

type Chooser = Callable[[QuestionSpec], Any]

# Enters one answer as a patient would (events included), then lists the questions shown.
ENTER = """([key, kind, value]) => {
  const form = document.querySelector("form[data-questionnaire]");
  const fire = (input, type) => input.dispatchEvent(new Event(type, {bubbles: true}));
  const field = (name) => form.querySelector(`[name="${name}"]`);
  if (kind === "choice") {
    const input = form.querySelector(`input[name="${key}"][value="${value}"]`);
    input.checked = true;
    fire(input, "change");
  } else if (kind === "ticks") {
    for (const code of value) {
      const input = form.querySelector(`input[name="${key}"][value="${code}"]`);
      input.checked = true;
      fire(input, "change");
    }
  } else if (kind === "date") {
    if (value === "not_sure") {
      field(key + "_not_sure").checked = true;
      fire(field(key + "_not_sure"), "change");
    } else {
      const [year, month, day] = value.split("-");
      for (const [part, text] of [["day", day || ""], ["month", String(Number(month))],
                                  ["year", year]]) {
        field(`${key}_${part}`).value = text;
        fire(field(`${key}_${part}`), "input");
      }
    }
  } else if (kind === "text") {
    field(key).value = value;
    fire(field(key), "input");
  }
  return [...form.querySelectorAll("[data-question]")]
    .filter((wrapper) => !wrapper.hidden).map((wrapper) => wrapper.dataset.question);
}"""


@pytest.fixture
def skinpen(transactional_db: None) -> None:
    import_document(json.loads(SKINPEN.read_text(encoding="utf-8"))).install()


def complete_cases() -> list[dict[str, Any]]:
    """The example patients whose answers cover the whole questionnaire as shown to them."""
    found = []
    for case in json.loads(CASES.read_text(encoding="utf-8")):
        if case.get("partial"):
            continue
        submitted = datetime.date.fromisoformat(case["submitted_on"])
        treatment = case.get("treatment_date")
        reference = datetime.date.fromisoformat(treatment) if treatment else None
        evaluation = evaluate(
            DEFINITION, case["answers"], submitted_on=submitted, reference_date=reference
        )
        # Every required question shown is answered (a question left optional may be blank).
        if not evaluation.unanswered:
            found.append(case)
    return found


def moved(case: dict[str, Any], today: datetime.date) -> tuple[dict[str, Any], Any]:
    """A case's answers and appointment date moved to today, its dates keeping their distance."""
    shift = today - datetime.date.fromisoformat(case["submitted_on"])
    answers = {}
    for key, value in case["answers"].items():
        if DEFINITION.questions[key].type == "date" and value != "not_sure":
            if len(value) == 7:
                value = (datetime.date.fromisoformat(value + "-01") + shift).strftime("%Y-%m")
            else:
                value = (datetime.date.fromisoformat(value) + shift).isoformat()
        answers[key] = value
    treatment = case.get("treatment_date")
    if treatment is not None:
        treatment = datetime.date.fromisoformat(treatment) + shift
    return answers, treatment


def answering_no(today: datetime.date) -> Chooser:
    """No, or the first choice, to everything; "not sure" to a date where that is allowed."""

    def choose(question: QuestionSpec) -> Any:
        if question.key == BIRTH:
            return ADULT
        if question.type in ("yes_no", "yes_no_not_sure"):
            return "no"
        if question.type == "single_choice":
            return question.choices[0].code
        if question.type == "multiple_choice":
            return [question.choices[0].code]
        if question.type == "date":
            if question.allow_not_sure:
                return "not_sure"
            return _day(question, today, 0)
        return "None"

    return choose


def answering_yes(today: datetime.date) -> Chooser:
    """Yes to everything, every box ticked, and recent or coming dates, some as month and year."""
    count = [0]

    def choose(question: QuestionSpec) -> Any:
        if question.key == BIRTH:
            return ADULT
        if question.type in ("yes_no", "yes_no_not_sure"):
            return "yes"
        if question.type == "single_choice":
            codes = [choice.code for choice in question.choices]
            return next((code for code in codes if code not in ("no", "none")), codes[0])
        if question.type == "multiple_choice":
            return [choice.code for choice in question.choices]
        if question.type == "date":
            count[0] += 1
            return _day(question, today, count[0])
        return "Details"

    return choose


def _day(question: QuestionSpec, today: datetime.date, number: int) -> str:
    """A date for the question's range, days or weeks away; every other one a month and year."""
    offset = {"past": -10, "future": 20, "any": -3}[question.date_range]
    day = today + datetime.timedelta(days=offset * (1 + number % 2))
    if question.allow_month_year and number % 2:
        return day.strftime("%Y-%m")
    return day.isoformat()


def start(page: Page, base: str, appointment: datetime.date | None) -> None:
    """Start a questionnaire, with its appointment date, and fill in the details step."""
    page.goto(base + "/")
    if appointment is not None:
        if page.locator('[name="treatment_date"]').count():
            page.fill('[name="treatment_date"]', appointment.strftime("%d/%m/%Y"))
        else:
            parts = {"day": appointment.day, "month": appointment.month, "year": appointment.year}
            for part, value in parts.items():
                page.fill(f'[name="treatment_date_{part}"]', str(value))
    page.get_by_role("button", name="Start the questionnaire").click()
    page.fill('[name="full_name"]', "Ann Example")
    page.fill('[name="email"]', "ann@example.com")
    page.fill('[name="phone"]', "07700 900123")


def walk(page: Page, base: str, chooser: Chooser, appointment: datetime.date | None) -> int:
    """Walk every step with the answers `chooser` gives; returns how many answers were checked."""
    today = timezone.localdate()
    birth = datetime.date.fromisoformat(chooser(DEFINITION.questions[BIRTH]))
    start(page, base, appointment)
    for part, value in (("day", birth.day), ("month", birth.month), ("year", birth.year)):
        page.fill(f'[name="date_of_birth_{part}"]', str(value))
    proceed(page)
    answers: dict[str, Any] = {BIRTH: birth.isoformat()}
    checked = 0
    for section in DEFINITION.sections:
        questions = [question for question in section.questions if question.key != BIRTH]
        keys = [question.key for question in questions]
        shown = page.evaluate(ENTER, ["", "", ""])
        for question in [*questions, None]:
            expected = visible_questions(
                DEFINITION, answers, submitted_on=today, reference_date=appointment
            )
            asked = [key for key in keys if key in expected]
            assert shown == asked, (
                f"On {section.key!r}, before {question and question.key!r}: "
                f"shown but not asked {sorted(set(shown) - set(asked))}, "
                f"asked but not shown {sorted(set(asked) - set(shown))}; answers {answers}"
            )
            checked += 1
            if question is None or question.key not in shown:
                continue
            value = chooser(question)
            if value is None:
                continue
            answers[question.key] = value
            shown = page.evaluate(ENTER, [question.key, _kind(question), value])
        proceed(page)
    assert "Check your answers" in page.title()
    return checked


def _kind(question: QuestionSpec) -> str:
    if question.type in ("yes_no", "yes_no_not_sure", "single_choice"):
        return "choice"
    if question.type == "multiple_choice":
        return "ticks"
    if question.type == "date":
        return "date"
    return "text"


def proceed(page: Page) -> None:
    """Continue to the next step; the server must accept the page."""
    before = page.url
    with page.expect_navigation():
        page.get_by_role("button", name="Continue", exact=True).click()
    if page.url == before:
        raise AssertionError(page.locator("main").inner_text()[:2000])


def case_chooser(answers: dict[str, Any]) -> Chooser:
    return lambda question: answers.get(question.key)


def test_the_page_shows_the_questions_the_server_asks(browser, live_server, skinpen):
    started = time.monotonic()
    today = timezone.localdate()
    soon = today + datetime.timedelta(days=14)
    patients: list[tuple[str, Chooser, datetime.date | None]] = []
    for case in complete_cases():
        answers, appointment = moved(case, today)
        patients.append((case["name"], case_chooser(answers), appointment))
    assert len(patients) >= 3
    patients.append(("no to everything", answering_no(today), soon))
    patients.append(("yes wherever possible", answering_yes(today), soon))
    patients.append(("yes, with no appointment booked", answering_yes(today), None))

    checked = 0
    for name, chooser, appointment in patients:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        try:
            checked += walk(page, live_server.url, chooser, appointment)
        except AssertionError as problem:
            raise AssertionError(f"{name}: {problem}") from None
        finally:
            context.close()

    assert checked > 300
    elapsed = time.monotonic() - started
    assert elapsed < TIME_LIMIT, f"The walk took {elapsed:.0f} s."
