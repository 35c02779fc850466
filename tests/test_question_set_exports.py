"""Import and export of question-set versions: the JSON document, a CSV data dictionary, and HL7
FHIR R4 Questionnaire / QuestionnaireResponse resources."""

import csv
import html
import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from factories import logged_in, publish_approved, staff, submission_for
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from intake import rules
from intake.models import (
    AuditAction,
    AuditEntry,
    ChangeKind,
    QuestionSetVersion,
    import_document,
)
from intake.records import fhir
from intake.review.decisions import record_change

pytestmark = pytest.mark.django_db

SETS = Path(__file__).resolve().parent.parent / "intake" / "question_sets"
SKINPEN = json.loads((SETS / "skinpen.json").read_text(encoding="utf-8"))
SKINPEN_CASES = json.loads((SETS / "skinpen.cases.json").read_text(encoding="utf-8"))


def url(name, *args):
    return reverse(f"admin:intake_questionsetversion_{name}", args=args)


@pytest.fixture
def admin_client(client):
    logged_in(client, staff("clinic.admin", "Clinic admin"))
    return client


def upload(name, content):
    data = content if isinstance(content, bytes) else json.dumps(content).encode()
    return SimpleUploadedFile(name, data, content_type="application/json")


def test_an_exported_document_imports_as_a_draft_with_the_same_content_and_cases(admin_client):
    version = import_document(SKINPEN)
    version.test_cases = SKINPEN_CASES
    version.save()
    publish_approved(version)

    exported = admin_client.get(url("export", version.pk))
    assert exported["Content-Disposition"] == 'attachment; filename="skinpen-v1.json"'
    assert json.loads(exported.content) == SKINPEN

    response = admin_client.post(
        url("import"),
        {
            "document": upload("skinpen-v1.json", exported.content),
            "cases": upload("cases.json", SKINPEN_CASES),
        },
    )

    draft = QuestionSetVersion.objects.get(number=2)
    assert response["Location"] == url("change", draft.pk)
    assert draft.is_draft
    assert draft.to_document() == SKINPEN
    assert draft.test_cases == SKINPEN_CASES
    publish_approved(draft)  # the imported cases all pass
    assert draft.content_hash == version.content_hash


def test_importing_an_invalid_document_lists_every_problem_and_creates_nothing(
    admin_client, make_document
):
    document = make_document()
    document["rules"][0]["when"] = {"q": "last_dos", "answered": True}
    document["parameters"]["BLOCK_MONTHS"]["value"] = "six"

    response = admin_client.post(url("import"), {"document": upload("bad.json", document)})

    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert 'Parameter "BLOCK_MONTHS" must have a whole-number value, not "six".' in page
    assert 'Rule "isotretinoin_recent" refers to unknown question "last_dos".' in page
    assert not QuestionSetVersion.objects.exists()


def test_importing_cases_that_leave_a_required_question_unanswered_names_them(
    admin_client, make_document
):
    cases = [{"name": "Silent", "submitted_on": "2026-03-02", "answers": {}, "expect": []}]

    response = admin_client.post(
        url("import"),
        {"document": upload("peel.json", make_document()), "cases": upload("c.json", cases)},
    )

    assert response.status_code == 400
    assert (
        'Test case "Silent" fails: it leaves required questions unanswered: isotretinoin'
        in html.unescape(response.content.decode())
    )
    assert not QuestionSetVersion.objects.exists()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"document": upload("x.json", b"{not json")}, "x.json is not a JSON file: "),
        ({"document": upload("x.json", b"\xff\xfe")}, "x.json is not a JSON file: "),
        (
            {"document": upload("x.json", {}), "cases": upload("c.json", {"name": "x"})},
            "A cases file must be a JSON list of cases.",
        ),
        ({}, "Please choose the question-set JSON document to import."),
    ],
)
def test_an_import_that_is_not_json_says_so(admin_client, files, message):
    response = admin_client.post(url("import"), files)

    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert not QuestionSetVersion.objects.exists()


def test_a_practitioner_cannot_import(client):
    logged_in(client, staff("pat", "Practitioner"))

    response = client.post(url("import"), {"document": upload("x.json", SKINPEN)})

    assert response.status_code == 403
    assert not QuestionSetVersion.objects.exists()


def test_the_data_dictionary_has_one_row_per_question(admin_client, make_document):
    document = make_document()
    document["sections"][0]["questions"][0]["text"] = "=HYPERLINK(1)"
    version = import_document(document)

    response = admin_client.get(url("dictionary", version.pk))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows == [
        {
            "key": "isotretinoin",
            "section": "medicines",
            "position": "1",
            "text": "'=HYPERLINK(1)",
            "help_text": "",
            "type": "yes_no_not_sure",
            "required": "yes",
            "choices": "yes = Yes; no = No; not_sure = Not sure",
            "follow_up_condition": "",
        },
        {
            "key": "last_dose",
            "section": "medicines",
            "position": "2",
            "text": "When did you take your last dose?",
            "help_text": "",
            "type": "date",
            "required": "yes",
            "choices": "",
            "follow_up_condition": "isotretinoin in (yes, not_sure)",
        },
    ]


def test_the_skinpen_data_dictionary_lists_every_question(admin_client):
    version = import_document(SKINPEN)

    response = admin_client.get(url("dictionary", version.pk))

    keys = [row["key"] for row in csv.DictReader(io.StringIO(response.content.decode()))]
    expected = [q["key"] for s in SKINPEN["sections"] for q in s["questions"]]
    assert keys == expected


def _items(resource):
    for item in resource.get("item", []):
        yield item
        yield from _items(item)


def test_the_fhir_questionnaire_of_a_version_is_valid_r4(admin_client, settings):
    settings.SITE_URL = "https://intake.example.co.uk"
    version = import_document(SKINPEN)
    publish_approved(version)

    response = admin_client.get(url("fhir", version.pk))
    resource = json.loads(response.content)

    Questionnaire.model_validate(resource)
    assert resource["url"] == "https://intake.example.co.uk/fhir/Questionnaire/skinpen"
    assert resource["version"] == "1"
    assert resource["status"] == "active"
    items = {item["linkId"]: item for item in _items(resource)}
    questions = {q["key"]: q for s in SKINPEN["sections"] for q in s["questions"]}
    assert set(questions) <= set(items)
    values = rules.parameter_values(SKINPEN)
    for key, question in questions.items():
        # The text as patients read it, with the parameters it names written in.
        assert items[key]["text"] == rules.render(question["text"], values)
        assert items[key]["required"] == question.get("required", True)
    assert items["isotretinoin_last_12_months"]["text"].startswith("In the last 12 months, have")
    assert items["pregnant_or_breastfeeding"]["answerOption"] == [
        {"valueCoding": {"code": "yes", "display": "Yes"}},
        {"valueCoding": {"code": "no", "display": "No"}},
    ]
    assert items["treatment_areas"]["repeats"] is True
    assert items["date_of_birth"]["type"] == "date"


def test_follow_ups_get_enable_when_where_fhir_can_say_it(make_document):
    document = make_document()
    questions = document["sections"][0]["questions"]
    questions.append(
        {
            "key": "when_planned",
            "text": "When?",
            "type": "date",
            "show_if": {"q": "last_dose", "within_before": {"days": 10}},
        }
    )
    version = import_document(document)

    resource = fhir.questionnaire(version)

    Questionnaire.model_validate(resource)
    items = {item["linkId"]: item for item in _items(resource)}
    assert items["last_dose"]["enableWhen"] == [
        {"question": "isotretinoin", "operator": "=", "answerCoding": {"code": "yes"}},
        {"question": "isotretinoin", "operator": "=", "answerCoding": {"code": "not_sure"}},
    ]
    assert items["last_dose"]["enableBehavior"] == "any"
    # A date window has no FHIR form: the follow-up is always enabled (asked), never hidden.
    assert "enableWhen" not in items["when_planned"]
    assert resource["status"] == "draft"


def test_a_submission_exports_as_a_valid_questionnaire_response_to_its_version(make_document):
    version = import_document(make_document())
    publish_approved(version)
    submission = submission_for(version, {"isotretinoin": "yes", "last_dose": "not_sure"})
    dated = submission_for(version, {"isotretinoin": "not_sure", "last_dose": "2025-11"})

    resource = fhir.questionnaire_response(submission)
    other = fhir.questionnaire_response(dated)

    QuestionnaireResponse.model_validate(resource)
    QuestionnaireResponse.model_validate(other)
    assert resource["questionnaire"] == f"{fhir.canonical_url(version)}|1"
    assert resource["identifier"] == {"value": submission.reference}
    (group,) = resource["item"]
    assert group["item"][0] == {
        "linkId": "isotretinoin",
        "text": "Have you taken isotretinoin?",
        "answer": [{"valueCoding": {"code": "yes", "display": "Yes"}}],
    }
    assert group["item"][1]["extension"][0]["valueCode"] == "asked-unknown"
    assert "answer" not in group["item"][1]
    assert other["item"][0]["item"][1]["answer"] == [{"valueDate": "2025-11"}]


def test_a_corrected_answer_is_exported_as_corrected_and_the_response_as_amended(make_document):
    version = import_document(make_document())
    publish_approved(version)
    submission = submission_for(version, {"isotretinoin": "yes", "last_dose": "not_sure"})
    assert fhir.questionnaire_response(submission)["status"] == "completed"

    record_change(
        submission,
        ChangeKind.ANSWER,
        subject="last_dose",
        old="not_sure",
        new="2025-11",
        reason="She found the date on her prescription",
        by=staff("p", "Practitioner"),
    )
    resource = fhir.questionnaire_response(submission)

    QuestionnaireResponse.model_validate(resource)
    assert resource["status"] == "amended"
    last_dose = resource["item"][0]["item"][1]
    assert last_dose["answer"] == [{"valueDate": "2025-11"}]
    assert "extension" not in last_dose
    # Corrected back to the answer first given, it is still a response that was amended.
    record_change(
        submission,
        ChangeKind.ANSWER,
        subject="last_dose",
        old="2025-11",
        new="not_sure",
        reason="The date was another course's",
        by=staff("q", "Practitioner"),
    )
    assert fhir.questionnaire_response(submission)["status"] == "amended"


def test_every_skinpen_case_exports_as_a_valid_questionnaire_response():
    version = import_document(SKINPEN)
    publish_approved(version)
    for case in SKINPEN_CASES:
        submission = submission_for(version, case["answers"])
        resource = fhir.questionnaire_response(submission)
        QuestionnaireResponse.model_validate(resource)
        linked = {item["linkId"] for group in resource["item"] for item in group["item"]}
        assert linked == set(submission.answers)


def test_a_clinic_admin_downloads_a_submission_as_fhir_and_it_is_audited(admin_client):
    version = import_document(SKINPEN)
    publish_approved(version)
    submission = submission_for(version, {"date_of_birth": "1990-04-03"})
    address = reverse("admin:intake_submission_fhir", args=[submission.pk])

    response = admin_client.get(address)

    resource = json.loads(response.content)
    QuestionnaireResponse.model_validate(resource)
    assert resource["id"] == str(submission.pk)
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.submission_id == submission.pk
    page = admin_client.get(reverse("admin:intake_submission_change", args=[submission.pk]))
    assert address.encode() in page.content


def test_a_practitioner_cannot_download_a_submission_as_fhir(client):
    version = import_document(SKINPEN)
    publish_approved(version)
    submission = submission_for(version, {"date_of_birth": "1990-04-03"})
    logged_in(client, staff("pat", "Practitioner"))
    address = reverse("admin:intake_submission_fhir", args=[submission.pk])

    assert client.get(address).status_code == 403
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()
    page = client.get(reverse("admin:intake_submission_change", args=[submission.pk]))
    assert address.encode() not in page.content
