"""Clinic admins author, test and publish question sets in the admin, without a developer."""

import html
import json
import re
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse
from factories import (
    add_inline_row,
    change_form_data,
    logged_in,
    publish_approved,
    row_index,
    staff,
    submission_for,
)

from intake.models import (
    FrozenVersionError,
    PublishError,
    Question,
    QuestionSet,
    QuestionSetVersion,
    Rule,
    VersionStatus,
    import_document,
)

pytestmark = pytest.mark.django_db

SMOKER_CASES = [
    {
        "name": "A smoker is flagged",
        "submitted_on": "2026-03-02",
        "answers": {"smoker": "yes", "skin": "oily"},
        "expect": [{"code": "smoking", "tier": "need_to_know"}],
    },
    {
        "name": "A non-smoker raises nothing",
        "submitted_on": "2026-03-02",
        "answers": {"smoker": "no", "skin": "oily"},
        "expect": [],
    },
]


def url(name: str, *args: Any) -> str:
    return reverse(f"admin:intake_questionsetversion_{name}", args=args)


@pytest.fixture
def clinic_admin(client):
    logged_in(client, staff("clinic.admin", "Clinic admin"))
    return client


def save_draft(client, version, change=None, **post):
    """Load the draft's admin page, apply `change` to what it would post, and post it."""
    page = client.get(url("change", version.pk))
    data = change_form_data(page)
    if change is not None:
        change(data)
    data.update(post)
    data.setdefault("_continue", "1")
    return client.post(url("change", version.pk), data)


def text(response) -> str:
    return html.unescape(response.content.decode())


def page_errors(response) -> list[str]:
    """The error summary at the top of the page, as read (its entries link to what they name)."""
    return [
        html.unescape(re.sub(r"<[^>]+>", "", error))
        for error in response.context["adminform"].form.non_field_errors()
    ]


def test_a_clinic_admin_authors_tests_and_publishes_a_question_set_in_the_admin(clinic_admin):
    # A new question set, then an empty draft of it.
    page = clinic_admin.get(reverse("admin:intake_questionset_add"))
    data = change_form_data(page) | {"title": "Chemical peel", "slug": "peel", "description": ""}
    response = clinic_admin.post(reverse("admin:intake_questionset_add"), data)
    assert response.status_code == 302
    question_set = QuestionSet.objects.get(slug="peel")
    response = clinic_admin.post(
        url("add"),
        {"question_set": question_set.pk, "label": "2026.1", "notes": "", "_continue": 1},
    )
    assert response.status_code == 302
    draft = QuestionSetVersion.objects.get(question_set=question_set)
    assert (draft.number, draft.status) == (1, VersionStatus.DRAFT)

    # A parameter and a section.
    def add_section(data):
        add_inline_row(data, "parameters", name="MIN_AGE", value="18", description="Years.")
        add_inline_row(data, "sections", position="0", key="about_you", title="About you")

    assert save_draft(clinic_admin, draft, add_section).status_code == 302
    section = draft.sections.get()

    # Questions: a yes/no one, and a single-choice one whose choices come on its own page.
    def add_questions(data):
        for position, (key, kind) in enumerate([("smoker", "yes_no"), ("skin", "single_choice")]):
            add_inline_row(
                data,
                "questions",
                section=str(section.pk),
                position=str(position),
                key=key,
                text=f"Question about {key}?",
                type=kind,
                required=True,
            )

    response = save_draft(clinic_admin, draft, add_questions)
    assert response.status_code == 302
    warning = [str(m) for m in response.wsgi_request._messages]
    assert any(
        'Still to do before publishing: Question "skin" is a single_choice question with no '
        "choices." in message
        for message in warning
    )
    skin = draft.questions.get(key="skin")
    question_page = clinic_admin.get(reverse("admin:intake_question_change", args=[skin.pk]))
    data = change_form_data(question_page)
    add_inline_row(data, "choices", position="0", code="oily", label="Oily")
    add_inline_row(data, "choices", position="1", code="dry", label="Dry")
    response = clinic_admin.post(reverse("admin:intake_question_change", args=[skin.pk]), data)
    assert response.status_code == 302
    assert list(skin.choices.values_list("code", flat=True)) == ["oily", "dry"]

    # A rule written in the readable condition syntax, and test cases.
    def add_rule(data):
        add_inline_row(
            data,
            "rules",
            position="0",
            rule_id="smoking",
            flag="smoking",
            tier="need_to_know",
            condition="smoker is yes and not skin in (dry)",
            practitioner_message="Smokers heal more slowly.",
            patient_guidance="",
            sources="",
        )
        data["test_cases"] = json.dumps(SMOKER_CASES)

    assert save_draft(clinic_admin, draft, add_rule).status_code == 302
    assert draft.rules.get().when == {
        "all": [{"q": "smoker", "is": "yes"}, {"not": {"q": "skin", "in": ["dry"]}}]
    }

    # Run the cases, then publish.
    cases = clinic_admin.get(url("cases", draft.pk))
    assert cases.status_code == 200
    assert cases.content.decode().count("case-pass") == 2
    assert b"2 cases: 0 failed." in cases.content

    preview = clinic_admin.get(url("publish", draft.pk))
    assert b"Every check passes and all 2 test cases pass" in preview.content
    assert b"this will be the first" in preview.content
    # Alone, the clinic admin cannot publish: a medical lead approves first.
    refused = clinic_admin.post(url("publish", draft.pk))
    assert refused.status_code == 400
    assert "A medical lead must approve this version" in text(refused)
    assert clinic_admin.post(url("submit", draft.pk)).status_code == 302
    lead = logged_in(Client(), staff("lead", "Medical lead"))
    page = lead.get(url("publish", draft.pk))
    assert "Awaiting medical-lead approval" in text(page)
    seen = page.context["approval_form"]["seen_hash"].value()
    approved = lead.post(url("approve", draft.pk), {"note": "Cases read.", "seen_hash": seen})
    assert approved.status_code == 302
    response = clinic_admin.post(url("publish", draft.pk))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED
    assert draft.published_by.username == "clinic.admin"
    assert (draft.approved_by.username, draft.approval_note) == ("lead", "Cases read.")
    assert question_set.latest_published() == draft


@pytest.mark.parametrize(
    ("change", "message", "row"),
    [
        (
            {"rules-0-condition": "last_dos within BLOCK_MONTHS months"},
            'Rule "isotretinoin_recent" refers to unknown question "last_dos".',
            (3, 0),
        ),
        (
            {"rules-0-condition": "isotretinoin is maybe"},
            'Rule "isotretinoin_recent" refers to unknown choice "maybe" of question '
            '"isotretinoin".',
            (3, 0),
        ),
        (
            {"rules-0-condition": "last_dose within BLOK_MONTHS months"},
            'Rule "isotretinoin_recent" refers to unknown parameter "BLOK_MONTHS".',
            (3, 0),
        ),
        (
            {"rules-0-condition": "isotretinoin within 3 days"},
            'Rule "isotretinoin_recent" uses "within_before" on question "isotretinoin", which '
            'is a yes_no_not_sure question; "within_before" needs a date question.',
            (3, 0),
        ),
        (
            {"questions-1-follow_up": "isotretinon is yes"},
            'The show_if of question "last_dose" refers to unknown question "isotretinon".',
            (2, 1),
        ),
        (
            {"questions-0-follow_up": "last_dose answered"},
            'The show_if of question "isotretinoin" refers to question "last_dose", which comes '
            "later; a follow-up may only depend on earlier questions.",
            (2, 0),
        ),
        (
            {"rules-0-sources": "IFU, LEAFLET"},
            'Rule "isotretinoin_recent" cites unknown source "LEAFLET".',
            (3, 0),
        ),
        (
            {"rules-0-patient_guidance": "Wait {BLOK_MONTHS months}."},
            'Rule "isotretinoin_recent" names the unknown parameter "BLOK_MONTHS" in its '
            '"patient_guidance".',
            (3, 0),
        ),
        (
            {"questions-1-text": "Your last dose in the last {BLOCK_MONTHS days}?"},
            'Question "last_dose"\'s "text" gives "BLOCK_MONTHS" in days, but it counts months.',
            (2, 1),
        ),
    ],
)
def test_a_mistake_in_a_condition_is_refused_on_save_naming_the_rule_or_question(
    clinic_admin, make_document, change, message, row
):
    draft = import_document(make_document())
    before = draft.to_document()

    response = save_draft(clinic_admin, draft, lambda data: data.update(change))

    assert response.status_code == 400
    assert page_errors(response) == [message]
    # The mistake shows at its row too, which keeps what was typed for correcting.
    inline, index = row
    form = response.context["inline_admin_formsets"][inline].formset.forms[index]
    assert form.non_field_errors() == [message]
    for typed in change.values():
        assert html.escape(typed) in response.content.decode()
    draft.refresh_from_db()
    assert draft.to_document() == before
    assert not LogEntry.objects.exists()


def test_a_condition_that_is_not_readable_is_refused_at_its_field(clinic_admin, make_document):
    draft = import_document(make_document())

    response = save_draft(
        clinic_admin, draft, lambda data: data.update({"rules-0-condition": "last_dose within 6"})
    )

    assert response.status_code == 400
    rule_form = response.context["inline_admin_formsets"][3].formset.forms[0]
    assert rule_form.errors["condition"] == [
        'Expected "days" or "months" after "last_dose within", found the end.'
    ]
    assert Rule.objects.get().when == make_document()["rules"][0]["when"]


def test_saving_a_draft_page_unchanged_leaves_its_document_exactly_as_it_was(
    clinic_admin, make_document
):
    draft = import_document(make_document())
    question = draft.questions.get(key="last_dose")

    assert save_draft(clinic_admin, draft).status_code == 302
    page = clinic_admin.get(reverse("admin:intake_question_change", args=[question.pk]))
    data = change_form_data(page) | {"_continue": "1"}
    response = clinic_admin.post(reverse("admin:intake_question_change", args=[question.pk]), data)

    assert response.status_code == 302
    assert draft.to_document() == make_document()


def test_type_settings_are_edited_on_the_question_page(clinic_admin, make_document):
    draft = import_document(make_document())
    question = draft.questions.get(key="last_dose")
    page = clinic_admin.get(reverse("admin:intake_question_change", args=[question.pk]))
    data = change_form_data(page)
    data.pop("allow_not_sure")
    data["date_range"] = "any"

    clinic_admin.post(reverse("admin:intake_question_change", args=[question.pk]), data)

    question.refresh_from_db()
    assert question.options == {
        "date_range": "any",
        "allow_month_year": True,
        "allow_not_sure": False,
    }


def question_page(client, question, change=None):
    """Load a question's own admin page, apply `change` to what it would post, and post it."""
    address = reverse("admin:intake_question_change", args=[question.pk])
    data = change_form_data(client.get(address))
    if change is not None:
        change(data)
    return client.post(address, data)


def test_a_question_page_refuses_a_change_that_breaks_a_rule(clinic_admin, make_document):
    draft = import_document(make_document())
    before = draft.to_document()
    last_dose = draft.questions.get(key="last_dose")

    response = question_page(clinic_admin, last_dose, lambda data: data.update(key="dose_date"))

    assert response.status_code == 400
    assert page_errors(response) == [
        'Rule "isotretinoin_recent" refers to unknown question "last_dose".'
    ]
    assert 'value="dose_date"' in response.content.decode()
    draft.refresh_from_db()
    assert draft.to_document() == before
    assert not LogEntry.objects.exists()


def test_a_choice_a_rule_uses_cannot_be_deleted_from_its_question(clinic_admin, make_document):
    skin = {
        "key": "skin",
        "text": "How is your skin?",
        "type": "single_choice",
        "choices": [{"code": "oily", "label": "Oily"}, {"code": "dry", "label": "Dry"}],
    }
    document = make_document()
    document["sections"][0]["questions"].append(skin)
    document["rules"].append(
        {
            "id": "oily_skin",
            "flag": "oily_skin",
            "tier": "manageable",
            "when": {"q": "skin", "is": "oily"},
            "practitioner_message": "Oily skin.",
        }
    )
    draft = import_document(document)
    question = draft.questions.get(key="skin")

    def delete_oily(data):
        data[f"choices-{row_index(data, 'choices', 'code', 'oily')}-DELETE"] = "on"

    response = question_page(clinic_admin, question, delete_oily)

    assert response.status_code == 400
    assert page_errors(response) == [
        'Rule "oily_skin" refers to unknown choice "oily" of question "skin".'
    ]
    assert list(question.choices.values_list("code", flat=True)) == ["oily", "dry"]
    # Renaming it is refused as well, and adding one beside it goes through.
    renamed = question_page(
        clinic_admin,
        question,
        lambda data: data.update(
            {f"choices-{row_index(data, 'choices', 'code', 'oily')}-code": "greasy"}
        ),
    )
    assert renamed.status_code == 400
    added = question_page(
        clinic_admin,
        question,
        lambda data: add_inline_row(data, "choices", position="2", code="mixed", label="Mixed"),
    )
    assert added.status_code == 302
    assert list(question.choices.values_list("code", flat=True)) == ["oily", "dry", "mixed"]


def test_test_cases_must_be_well_formed_to_be_saved(clinic_admin, make_document):
    draft = import_document(make_document())

    response = save_draft(
        clinic_admin, draft, lambda data: data.update({"test_cases": '[{"name": "No date"}]'})
    )

    assert response.status_code == 400
    assert response.context["adminform"].form.errors["test_cases"] == [
        "Case 'No date': submitted_on must be a date written YYYY-MM-DD."
    ]
    draft.refresh_from_db()
    assert draft.test_cases == []


def test_run_test_cases_shows_each_case_with_its_missing_unexpected_and_mistiered_flags(
    clinic_admin, make_document
):
    draft = import_document(make_document())
    draft.test_cases = [
        {
            "name": "Recent dose",
            "submitted_on": "2026-03-02",
            "answers": {"isotretinoin": "yes", "last_dose": "2026-01-10"},
            "expect": [{"code": "oral_isotretinoin", "tier": "not_possible"}],
        },
        {
            "name": "Wrongly expects nothing",
            "submitted_on": "2026-03-02",
            "answers": {"isotretinoin": "yes", "last_dose": "2026-02"},
            "expect": [{"code": "smoking", "tier": "manageable"}],
        },
        {
            "name": "Recent dose, weakened",
            "submitted_on": "2026-03-02",
            "answers": {"isotretinoin": "yes", "last_dose": "2026-01-10"},
            "expect": [{"code": "oral_isotretinoin", "tier": "need_to_know"}],
            "outcome": "need_to_know",
        },
        {
            "name": "Recent dose, code only",
            "submitted_on": "2026-03-02",
            "answers": {"isotretinoin": "yes", "last_dose": "2026-01-10"},
            "expect": ["oral_isotretinoin"],
        },
    ]
    draft.save()

    response = clinic_admin.get(url("cases", draft.pk))

    rows = [
        [cell.strip() for cell in row]
        for row in _table_rows(response.content.decode(), "case-results")
    ]
    assert rows == [
        ["Recent dose", "Pass", "–", "–", "–", "–"],
        ["Wrongly expects nothing", "Fail", "smoking", "oral_isotretinoin", "–", "–"],
        [
            "Recent dose, weakened",
            "Fail",
            "–",
            "–",
            "oral_isotretinoin: expected Need to know, raised Not possible"
            "outcome: expected Need to know, evaluated Not possible",
            "–",
        ],
        [
            "Recent dose, code only",
            "Fail",
            "–",
            "–",
            'oral_isotretinoin: no tier stated (write {"code": "oral_isotretinoin", "tier": …})',
            "–",
        ],
    ]
    assert b"4 cases: 3 failed." in response.content


def _table_rows(page: str, css_class: str) -> list[list[str]]:
    import re

    table = re.split(rf'(?:class|id)="{css_class}"', page, maxsplit=1)[1].split("</table>")[0]
    body = table.split("<tbody>", 1)[1]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)
        rows.append([html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in cells])
    return rows


def test_publishing_is_blocked_by_a_failing_test_case_and_says_why(clinic_admin, make_document):
    draft = import_document(make_document())
    draft.test_cases = [
        {
            "name": "Old dose",
            "submitted_on": "2026-03-02",
            "answers": {"isotretinoin": "yes", "last_dose": "2025-01-10"},
            "expect": [{"code": "oral_isotretinoin", "tier": "not_possible"}],
        }
    ]
    draft.save()

    shown = clinic_admin.get(url("publish", draft.pk))
    response = clinic_admin.post(url("publish", draft.pk))

    message = 'Test case "Old dose" fails: missing flags: oral_isotretinoin.'
    assert message in text(shown)
    assert b'type="submit"' not in shown.content.split(b'id="content"')[1]
    assert response.status_code == 400
    assert message in text(response)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_publishing_is_blocked_by_an_unfinished_draft(clinic_admin, make_document):
    draft = import_document(make_document())
    Question.objects.create(
        version=draft,
        section=draft.sections.get(),
        position=9,
        key="skin",
        text="Skin?",
        type="single_choice",
    )

    response = clinic_admin.post(url("publish", draft.pk))

    assert response.status_code == 400
    assert 'Question "skin" is a single_choice question with no choices.' in text(response)
    assert QuestionSetVersion.objects.get().status == VersionStatus.DRAFT


def test_the_model_refuses_to_publish_a_version_whose_cases_fail(make_document):
    draft = import_document(make_document())
    draft.test_cases = [
        {
            "name": "Expects too much",
            "submitted_on": "2026-03-02",
            "answers": {"isotretinoin": "no"},
            "expect": [{"code": "x", "tier": "manageable"}],
        }
    ]
    draft.save()

    with pytest.raises(PublishError) as raised:
        draft.publish()

    assert [p.message for p in raised.value.problems] == [
        'Test case "Expects too much" fails: missing flags: x.'
    ]


def test_a_published_version_cannot_be_edited_in_the_admin(clinic_admin, make_document):
    version = import_document(make_document())
    publish_approved(version)
    question = version.questions.first()

    page = clinic_admin.get(url("change", version.pk))
    posted = clinic_admin.post(url("change", version.pk), {"label": "changed"})
    question_posted = clinic_admin.post(
        reverse("admin:intake_question_change", args=[question.pk]), {"text": "changed"}
    )

    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert b"New draft from this version" in page.content
    assert posted.status_code == 403
    assert question_posted.status_code == 403
    assert clinic_admin.post(url("publish", version.pk)).status_code == 302
    version.refresh_from_db()
    assert version.to_document() == make_document()


def test_new_draft_from_a_version_copies_it_and_its_test_cases(clinic_admin, make_document):
    version = import_document(make_document(version={"label": "2026.1", "notes": "First."}))
    version.test_cases = [
        {
            "name": "No isotretinoin",
            "submitted_on": "2026-03-02",
            "answers": {"isotretinoin": "no"},
            "expect": [],
        }
    ]
    version.save()
    publish_approved(version)

    assert clinic_admin.get(url("new_draft", version.pk)).status_code == 405
    response = clinic_admin.post(url("new_draft", version.pk))

    draft = QuestionSetVersion.objects.get(number=2)
    assert response["Location"] == url("change", draft.pk)
    assert draft.is_draft
    # Everything but the label and release notes, which are the new version's own to write.
    assert draft.to_document() == version.to_document() | {"version": {"label": "", "notes": ""}}
    assert draft.test_cases == version.test_cases
    page = clinic_admin.get(response["Location"]).content.decode()
    assert "Give it a label and release notes of its own" in page


def test_a_version_published_with_a_name_in_braces_that_is_no_parameter_is_not_copied(
    clinic_admin, make_document
):
    # As a version published before names in braces were checked could have been.
    from django.db import connection

    version = import_document(make_document())
    publish_approved(version)
    frozen = version.definition
    frozen["sections"][0]["questions"][0]["text"] = "Have you taken isotretinoin {ROACCUTANE}?"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {QuestionSetVersion._meta.db_table} SET definition = %s WHERE id = %s",  # noqa: S608
            [json.dumps(frozen), version.pk],
        )

    response = clinic_admin.post(url("new_draft", version.pk), follow=True)

    assert response.status_code == 200
    assert "cannot be copied as it is" in text(response)
    assert 'names the unknown parameter "ROACCUTANE"' in text(response)
    assert QuestionSetVersion.objects.count() == 1


def test_changing_a_draft_never_alters_a_published_version_or_a_submission(
    clinic_admin, client, make_document
):
    published = import_document(make_document())
    publish_approved(published)
    frozen = (published.definition, published.content_hash)
    submission = submission_for(published, {"isotretinoin": "yes", "last_dose": "not_sure"})
    draft = published.new_draft()

    def reword(data):
        data["questions-0-text"] = "Have you ever taken isotretinoin (Roaccutane)?"
        data["rules-0-tier"] = "manageable"
        data["parameters-0-value"] = "12"

    assert save_draft(clinic_admin, draft, reword).status_code == 302
    publish_approved(QuestionSetVersion.objects.get(pk=draft.pk))

    published.refresh_from_db()
    submission.refresh_from_db()
    assert (published.definition, published.content_hash) == frozen
    assert published.status == VersionStatus.PUBLISHED
    assert submission.version_id == published.pk
    assert [f.tier for f in submission.current_flags()] == ["not_possible"]
    page = clinic_admin.get(reverse("admin:intake_submission_change", args=[submission.pk]))
    assert b"Have you taken isotretinoin?" in page.content
    assert b"Roaccutane" not in page.content
    with pytest.raises(FrozenVersionError):
        published.questions.update(text="changed")


def test_the_version_list_shows_status_publisher_and_submission_counts(clinic_admin, make_document):
    version = import_document(make_document())
    publish_approved(version, by=staff("publisher"))
    submission_for(version, {"isotretinoin": "no"})
    submission_for(version, {"isotretinoin": "no"})
    version.new_draft()

    response = clinic_admin.get(url("changelist"))
    rows = _table_rows(response.content.decode(), "result_list")
    by_name = {row[1].strip(): row for row in rows}

    published_row = by_name["Chemical peel v1 (1)"]
    assert published_row[2:5] == ["Published", "Approved by a medical lead", "publisher"]
    assert published_row[6] == "2"
    assert published_row[7] == version.content_hash[:12]
    assert by_name["Chemical peel v2"][2:4] == ["Draft", "Being edited"]
    assert by_name["Chemical peel v2"][6] == "0"


def test_a_practitioner_can_read_question_sets_but_not_change_them(client, make_document):
    version = import_document(make_document())
    logged_in(client, staff("pat.practitioner", "Practitioner"))

    assert client.get(url("change", version.pk)).status_code == 200
    assert client.get(url("cases", version.pk)).status_code == 200
    assert save_draft(client, version).status_code == 403
    assert client.post(url("publish", version.pk)).status_code == 403
    assert client.post(url("submit", version.pk)).status_code == 403
    page = client.get(url("publish", version.pk))  # they may read what it would change
    assert page.status_code == 200
    assert "Submit for approval" not in text(page)
    assert client.post(url("new_draft", version.pk)).status_code == 403
    assert client.get(url("import")).status_code == 403
    assert client.post(url("add"), {"question_set": version.question_set_id}).status_code == 403
    version.refresh_from_db()
    assert version.is_draft


def test_staff_without_a_role_cannot_see_question_sets(client, make_document):
    version = import_document(make_document())
    logged_in(client, staff("no.role"))

    assert client.get(url("change", version.pk)).status_code == 403
    assert client.get(url("cases", version.pk)).status_code == 403
    assert client.get(url("export", version.pk)).status_code == 403


def test_anyone_not_logged_in_is_sent_to_the_login_page(client, make_document):
    version = import_document(make_document())

    response = client.get(url("publish", version.pk))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_published_version_shows_its_conditions_and_settings_as_written(
    clinic_admin, make_document
):
    version = import_document(make_document())
    publish_approved(version)
    question = version.questions.get(key="last_dose")

    page = text(clinic_admin.get(url("change", version.pk)))
    question_page = text(
        clinic_admin.get(reverse("admin:intake_question_change", args=[question.pk]))
    )

    assert "last_dose within BLOCK_MONTHS months" in page
    assert "isotretinoin in (yes, not_sure)" in page
    assert version.content_hash in page
    assert "isotretinoin in (yes, not_sure)" in question_page
    assert 'allow_month_year: true, allow_not_sure: true, date_range: "past"' in question_page


def test_retiring_a_version_stops_new_starts_on_it(clinic_admin, client, make_document):
    version = import_document(make_document())
    publish_approved(version)
    assert b"Retire this version" in clinic_admin.get(url("change", version.pk)).content

    response = clinic_admin.post(url("retire", version.pk))

    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == VersionStatus.RETIRED
    assert version.question_set.latest_published() is None
    again = clinic_admin.post(url("retire", version.pk), follow=True)
    assert "Only a published version can be retired" in text(again)


def test_a_practitioner_cannot_retire_a_version(client, make_document):
    version = import_document(make_document())
    publish_approved(version)
    logged_in(client, staff("pat", "Practitioner"))

    assert client.post(url("retire", version.pk)).status_code == 403
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED


@pytest.mark.parametrize(
    "page", ["admin:intake_questionsetversion_changelist", "admin:intake_questionset_changelist"]
)
def test_the_version_lists_take_the_same_queries_however_many_versions(
    clinic_admin, make_document, page
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert clinic_admin.get(reverse(page)).status_code == 200
        return len(captured)

    first = import_document(make_document())
    publish_approved(first, by=staff("publisher"))
    submission_for(first, {"isotretinoin": "no"})
    one = queries()
    for number in range(4):
        version = import_document(make_document(question_set={"slug": f"s{number}", "title": "T"}))
        publish_approved(version, by=staff(f"publisher{number}"))
        submission_for(version, {"isotretinoin": "no"})
        version.new_draft()

    assert queries() == one


def test_a_draft_can_be_deleted_but_a_published_version_cannot(clinic_admin, make_document):
    published = import_document(make_document())
    publish_approved(published)
    draft = published.new_draft()

    deleted = clinic_admin.post(url("delete", draft.pk), {"post": "yes"})
    refused = clinic_admin.post(url("delete", published.pk), {"post": "yes"})

    assert deleted.status_code == 302
    assert refused.status_code == 403
    assert list(QuestionSetVersion.objects.values_list("number", flat=True)) == [1]
    assert Rule.objects.count() == 1


def test_a_question_page_offers_only_the_settings_of_its_type(clinic_admin, make_document):
    document = make_document()
    document["sections"][0]["questions"].append(
        {
            "key": "skin",
            "text": "Skin?",
            "type": "single_choice",
            "choices": [{"code": "oily", "label": "Oily"}],
        }
    )
    draft = import_document(document)

    def page(key):
        question = draft.questions.get(key=key)
        return text(clinic_admin.get(reverse("admin:intake_question_change", args=[question.pk])))

    date_page, choice_page = page("last_dose"), page("skin")
    assert "Date questions" in date_page
    assert "Number questions" not in date_page
    assert "Add another Choice" not in date_page
    assert "Date questions" not in choice_page
    assert 'value="oily"' in choice_page


def test_a_condition_may_also_be_given_in_its_json_form(clinic_admin, make_document):
    draft = import_document(make_document())
    condition = {"q": "last_dose", "within_before": {"days": 30}}

    response = save_draft(
        clinic_admin, draft, lambda data: data.update({"rules-0-condition": json.dumps(condition)})
    )
    broken = save_draft(
        clinic_admin, draft, lambda data: data.update({"rules-0-condition": '{"q": '})
    )

    assert response.status_code == 302
    assert Rule.objects.get().when == condition
    rule_form = broken.context["inline_admin_formsets"][3].formset.forms[0]
    assert rule_form.errors["condition"][0].startswith("This is neither a condition nor valid JSON")


def test_a_short_name_is_written_on_the_question_page_and_checked_there(
    clinic_admin, make_document
):
    draft = import_document(make_document())
    last_dose = draft.questions.get(key="last_dose")

    refused = question_page(
        clinic_admin, last_dose, lambda data: data.update(short_name="Enter the date.")
    )
    assert refused.status_code == 400
    assert len(page_errors(refused)) == 1
    assert 'Question "last_dose" has a "short_name" "Enter the date."' in page_errors(refused)[0]
    last_dose.refresh_from_db()
    assert last_dose.short_name == ""

    question_page(
        clinic_admin,
        last_dose,
        lambda data: data.update(short_name="when you last took isotretinoin"),
    )

    last_dose.refresh_from_db()
    assert last_dose.short_name == "when you last took isotretinoin"
    (exported,) = [
        q for q in draft.to_document()["sections"][0]["questions"] if q["key"] == "last_dose"
    ]
    assert exported["short_name"] == "when you last took isotretinoin"
