"""The start page and the confirmation page, read as a patient reads them."""

import datetime
import re
from collections import Counter
from html.parser import HTMLParser

import pytest
import time_machine
from django.contrib.staticfiles import finders
from factories import (
    PREGNANT,
    TODAY,
    appointment_post,
    complete_until_check,
    make_invitation,
    start,
    step_url,
    submit,
)

from intake.models import Draft

pytestmark = pytest.mark.django_db


class _Reader(HTMLParser):
    """The text a patient sees on a page, and its headings in order."""

    HIDDEN = {"head", "script", "style", "template"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    # A block ends a sentence even without a full stop (a heading, a list item, a label).
    BLOCKS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "label", "legend", "div", "button"}

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.headings: list[str] = []
        # The open elements, each with whether it hides what it holds.
        self._open: list[tuple[str, bool]] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        self._open.append((tag, tag in self.HIDDEN or any(name == "hidden" for name, _ in attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop()[0] != tag:
            pass
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None
        if tag in self.BLOCKS:
            self.text.append("\n")

    def handle_data(self, data: str) -> None:
        if any(hidden for _, hidden in self._open):
            return
        self.text.append(data)
        if self._heading is not None:
            self._heading.append(data)


def read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    return reader


def sentences(html: str) -> list[str]:
    """The page's visible sentences, with spacing and case evened out."""
    text = "".join(read(html).text)
    parts = re.split(r"(?<=[.!?])\s+|\n", text)
    return [" ".join(part.split()).casefold() for part in parts if part.strip()]


def example_date(html: str) -> datetime.date:
    """The example appointment date the start page gives, "For example, 27 3 2027"."""
    found = re.search(r"For example, (\d{1,2}) (\d{1,2}) (\d{4})", html)
    assert found, "no example date"
    day, month, year = (int(part) for part in found.groups())
    return datetime.date(year, month, day)


# The start page


def test_no_sentence_appears_twice_on_the_start_page(client, version):
    said = sentences(client.get("/").text)

    assert len(said) > 10
    assert [s for s, times in Counter(said).items() if times > 1] == []


def test_no_sentence_appears_twice_on_an_invitation_start_page(client, version):
    _, token = make_invitation(version)

    said = sentences(client.get(f"/invitation/{token}/").text)

    assert [s for s, times in Counter(said).items() if times > 1] == []


def test_the_example_appointment_date_is_in_the_future_on_every_day_the_page_is_served(
    client, version
):
    with time_machine.travel(datetime.datetime(2027, 3, 10, 12, tzinfo=datetime.UTC)):
        first = example_date(client.get("/").text)
    # The page is rendered once per process and kept: the example still moves on with the days.
    with time_machine.travel(datetime.datetime(2028, 11, 20, 12, tzinfo=datetime.UTC)):
        later = example_date(client.get("/").text)

    assert datetime.date(2027, 3, 10) < first <= datetime.date(2027, 3, 10) + datetime.timedelta(60)
    assert datetime.date(2028, 11, 20) < later <= datetime.date(2029, 1, 19)


def test_the_appointment_date_has_day_month_and_year_boxes_like_the_other_dates(client, version):
    html = client.get("/").text

    assert "<legend" in html and "Appointment date (if you have one booked)" in html
    for box in ("day", "month", "year"):
        assert f'name="treatment_date_{box}"' in html
    assert 'name="treatment_date"' not in html


def test_a_patient_starts_with_an_appointment_date_typed_as_day_month_and_year(client, version):
    appointment = TODAY + datetime.timedelta(days=45)

    response = client.post("/start/", appointment_post(appointment))

    assert response.status_code == 302
    assert Draft.objects.get().treatment_date == appointment


def test_a_patient_without_an_appointment_date_starts_without_one(client, version):
    response = client.post("/start/", appointment_post(None))

    assert response.status_code == 302
    assert Draft.objects.get().treatment_date is None


@pytest.mark.parametrize(
    ("boxes", "message"),
    [
        (("1", "1", "2020"), "Your appointment date has already passed"),
        (("31", "2", "2027"), "Enter your appointment date as a real date."),
        (("", "3", "2027"), "Enter your appointment date with a day, month and year"),
        (("1", "3", "27"), "Enter the year of your appointment in full"),
        (("1", "1", "2099"), "Your appointment date must be within the next two years"),
    ],
)
def test_a_wrong_appointment_date_is_refused_with_a_message_naming_it(
    client, version, boxes, message
):
    parts = ("day", "month", "year")
    data = {f"treatment_date_{part}": box for part, box in zip(parts, boxes, strict=True)}

    response = client.post("/start/", data)

    assert response.status_code == 400
    html = response.text
    # Once in the error summary, linked to the first box, and once beside the boxes.
    assert html.count(message) == 2
    assert 'href="#id_treatment_date_0"' in html
    assert Draft.objects.count() == 0


def test_the_details_step_shows_the_appointment_date_in_its_boxes(client, version):
    appointment = TODAY + datetime.timedelta(days=45)
    start(client, appointment)

    html = client.get(step_url(1)).text

    assert f'name="treatment_date_day" value="{appointment.day}"' in html
    assert f'name="treatment_date_year" value="{appointment.year}"' in html


def test_every_patient_page_has_a_favicon_and_the_start_page_a_description(client, version):
    start_page = client.get("/").text
    start(client)
    step_page = client.get(step_url(1)).text
    missing = client.get("/no-such-page/").text

    for html in (start_page, step_page, missing):
        assert re.search(r'<link rel="icon" href="[^"]*intake/favicon\.svg"', html)
    assert finders.find("intake/favicon.svg")
    description = re.search(r'<meta name="description" content="([^"]+)">', start_page)
    assert description and "consultation" in description[1]


# The confirmation page


def confirmation(client, version, **answers) -> _Reader:
    start(client)
    submit(client, complete_until_check(client, version, **answers))
    return read(client.get("/questionnaire/sent/").text)


def section_after(reader: _Reader, heading: str) -> str:
    text = " ".join("".join(reader.text).split())
    return text[text.index(heading) :]


def test_one_reason_treatment_may_not_be_possible_is_counted_as_one(client, version):
    page = confirmation(client, version, **PREGNANT)

    text = section_after(page, "What happens next")
    assert "one of them may apply to you" in text
    assert "pregnant or breastfeeding" in text


def test_two_reasons_treatment_may_not_be_possible_are_counted_as_two(client, version):
    page = confirmation(client, version, **PREGNANT, keloid_history="yes")

    text = section_after(page, "What happens next")
    assert "2 of them may apply to you" in text
    assert "one of them" not in text
    assert "pregnant or breastfeeding" in text and "keloid" in text


def test_where_treatment_may_not_be_possible_the_page_leads_with_what_happens_next(client, version):
    page = confirmation(client, version, **PREGNANT)

    assert page.headings[1] == "What happens next"
    text = section_after(page, "What happens next")
    assert "we'll be in touch" in text
    assert "There's nothing you need to do now" in text
    # The advice on preparing comes only under a heading that says it is for if it goes ahead.
    assert "Preparing for your treatment" not in page.headings
    ahead = page.headings.index("If your treatment goes ahead")
    assert page.headings.index("Before your treatment") > ahead
    assert text.index("If your treatment goes ahead") < text.index("clean skin")


def test_where_treatment_can_go_ahead_the_page_gives_the_preparation_advice(client, version):
    page = confirmation(client, version, cold_sore_ever="yes", cold_sore_last_start="2020-05")

    assert page.headings[1] == "What happens next"
    assert "Preparing for your treatment and aftercare" in page.headings
    assert "If your treatment goes ahead" not in page.headings
    text = section_after(page, "What happens next")
    assert "may apply to you" not in text
    assert "Something we'll talk about" in page.headings
    assert "This doesn't necessarily prevent treatment" in text
