import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from intake import published
from intake.models import (
    ApprovalState,
    PublishError,
    QuestionSet,
    QuestionSetVersion,
    User,
    VersionStatus,
)

pytestmark = pytest.mark.django_db

SKINPEN = Path(__file__).resolve().parent.parent / "intake" / "question_sets"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def write_json(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_loading_a_new_question_set_installs_it_awaiting_medical_lead_approval(
    tmp_path, make_document
):
    path = write_json(tmp_path, "peel.json", make_document())

    first = run("load_question_set", str(path), "--publish")
    second = run("load_question_set", str(path), "--publish")

    assert "Chemical peel v1 (1) installed, awaiting medical-lead approval." in first
    assert "already up to date" in second
    version = QuestionSetVersion.objects.get()
    assert version.status == VersionStatus.PUBLISHED  # patients can start it at once
    assert version.approval_state == ApprovalState.INSTALLED
    assert version.approved_by is None


def test_loading_a_changed_file_leaves_a_draft_awaiting_approval_not_published(
    tmp_path, make_document
):
    run("load_question_set", str(write_json(tmp_path, "a.json", make_document())), "--publish")
    changed = write_json(tmp_path, "b.json", make_document(version={"label": "2", "notes": "New."}))

    first = run("load_question_set", str(changed), "--publish")
    again = run("load_question_set", str(changed), "--publish")

    question_set = QuestionSet.objects.get(slug="peel")
    assert question_set.latest_published().number == 1
    draft = question_set.versions.get(number=2)
    assert draft.status == VersionStatus.DRAFT
    assert draft.approval_state == ApprovalState.AWAITING
    assert "submitted for approval" in first
    assert "Chemical peel v2 (2) is already awaiting approval; nothing to do." in again
    assert question_set.versions.count() == 2
    with pytest.raises(PublishError, match="medical lead must approve"):
        draft.publish()


def test_loading_without_publish_leaves_a_draft(tmp_path, make_document):
    run("load_question_set", str(write_json(tmp_path, "a.json", make_document())))

    assert QuestionSetVersion.objects.get().status == VersionStatus.DRAFT


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not valid JSON"), ('{"format": 1}', "cannot be imported")],
)
def test_loading_a_broken_file_says_why_and_stores_nothing(tmp_path, content, message):
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(CommandError, match=message):
        run("load_question_set", str(path))

    assert QuestionSetVersion.objects.count() == 0


def test_exporting_prints_the_published_document(tmp_path, make_document):
    run("load_question_set", str(write_json(tmp_path, "a.json", make_document())), "--publish")

    assert json.loads(run("export_question_set", "peel")) == make_document()


def test_the_shipped_skinpen_cases_all_pass():
    run("load_question_set", str(SKINPEN / "skinpen.json"), "--publish")

    output = run("questionnaire_cases", "skinpen", str(SKINPEN / "skinpen.cases.json"))

    assert "FAIL" not in output
    assert " 0 failed" in output


def test_a_failing_case_is_reported_with_missing_and_unexpected_flags(tmp_path, make_document):
    run("load_question_set", str(write_json(tmp_path, "a.json", make_document())), "--publish")
    cases = [
        {
            "name": "recent dose",
            "submitted_on": "2025-05-01",
            "answers": {"isotretinoin": "yes", "last_dose": "2025-04-01"},
            "expect": [{"code": "cold_sore_history", "tier": "need_to_know"}],
        },
        {
            "name": "never taken",
            "submitted_on": "2025-05-01",
            "answers": {"isotretinoin": "no"},
            "expect": [],
        },
    ]
    out = StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command(
            "questionnaire_cases", "peel", str(write_json(tmp_path, "c.json", cases)), stdout=out
        )

    assert exited.value.code == 1
    lines = out.getvalue().splitlines()
    assert "FAIL" in lines[0] and "missing: cold_sore_history" in lines[0]
    assert "unexpected: oral_isotretinoin" in lines[0]
    assert lines[1].startswith("PASS")
    assert "1 passed, 1 failed" in lines[2]


@pytest.mark.parametrize(
    ("cases", "message"),
    [
        ({"name": "x"}, "JSON list"),
        (
            [{"name": "x", "submitted_on": "2025-02-30", "answers": {}, "expect": []}],
            "not a valid date",
        ),
        ([{"name": "x", "submitted_on": "2025-02-01", "expect": "oral"}], "list of expected"),
        (
            [{"name": "x", "submitted_on": "2025-02-01", "expect": [{"code": "oral"}]}],
            "'oral' needs its tier",
        ),
        (
            [
                {
                    "name": "x",
                    "submitted_on": "2025-02-01",
                    "expect": [{"code": "oral", "tier": "serious"}],
                }
            ],
            "must be one of",
        ),
        (
            [{"name": "x", "submitted_on": "2025-02-01", "expect": [], "outcome": "fine"}],
            "outcome",
        ),
    ],
)
def test_a_malformed_cases_file_is_refused_with_a_reason(tmp_path, make_document, cases, message):
    run("load_question_set", str(write_json(tmp_path, "a.json", make_document())), "--publish")

    with pytest.raises(CommandError, match=message):
        run("questionnaire_cases", "peel", str(write_json(tmp_path, "c.json", cases)))


def test_a_flag_raised_at_another_tier_than_the_case_states_fails(tmp_path, make_document):
    run("load_question_set", str(write_json(tmp_path, "a.json", make_document())), "--publish")
    recent = {"isotretinoin": "yes", "last_dose": "2025-04-01"}
    cases = [
        {
            "name": "recent dose, said to be only need to know",
            "submitted_on": "2025-05-01",
            "answers": recent,
            "expect": [{"code": "oral_isotretinoin", "tier": "need_to_know"}],
        },
        {
            "name": "recent dose, outcome said to be manageable",
            "submitted_on": "2025-05-01",
            "answers": recent,
            "expect": [{"code": "oral_isotretinoin", "tier": "not_possible", "temporary": True}],
            "outcome": "manageable",
        },
        {
            "name": "recent dose, with its code only",
            "submitted_on": "2025-05-01",
            "answers": recent,
            "expect": ["oral_isotretinoin"],
        },
        {
            "name": "recent dose, as it is",
            "submitted_on": "2025-05-01",
            "answers": recent,
            "expect": [{"code": "oral_isotretinoin", "tier": "not_possible", "temporary": True}],
            "outcome": "not_possible",
        },
    ]
    out = StringIO()

    with pytest.raises(SystemExit):
        call_command(
            "questionnaire_cases", "peel", str(write_json(tmp_path, "c.json", cases)), stdout=out
        )

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("FAIL")
    assert "oral_isotretinoin: expected Need to know, raised Not possible" in lines[0]
    assert "outcome: expected Manageable, evaluated Not possible" in lines[1]
    assert "oral_isotretinoin: no tier stated" in lines[2]
    assert lines[3].startswith("PASS")
    assert "1 passed, 3 failed" in lines[4]


def test_cases_need_a_published_version(tmp_path, make_document):
    run("load_question_set", str(write_json(tmp_path, "a.json", make_document())))

    with pytest.raises(CommandError, match="no published version"):
        run("questionnaire_cases", "peel", str(write_json(tmp_path, "c.json", [])))


def test_the_demo_login_is_created_once_with_a_generated_password():
    first = run("ensure_demo_staff")
    second = run("ensure_demo_staff")

    password = first.split("password:")[1].split()[0]
    user = User.objects.get(username="demo")
    assert user.is_staff and user.check_password(password)
    assert len(password) >= 16
    lead_password = first.split("password:")[2].split()[0]
    lead = User.objects.get(username="demo-lead")
    assert lead.check_password(lead_password) and lead_password != password
    assert list(lead.groups.values_list("name", flat=True)) == ["Medical lead"]
    assert not lead.is_superuser
    assert "already exists" in second
    assert User.objects.count() == 2


def test_the_demo_logins_sign_in_address_is_site_urls(settings):
    default = run("ensure_demo_staff")
    User.objects.all().delete()
    settings.SITE_URL = "https://intake.example-clinic.co.uk/"
    configured = run("ensure_demo_staff")

    assert "admin:    http://127.0.0.1:8000/admin/" in default
    assert "admin:    https://intake.example-clinic.co.uk/admin/" in configured
    assert ":8000" not in configured


def test_each_demo_login_gets_a_different_password():
    first = run("ensure_demo_staff").split("password:")[1].split()[0]
    User.objects.all().delete()
    second = run("ensure_demo_staff").split("password:")[1].split()[0]

    assert first != second


def test_the_skinpen_set_loads_with_its_cases_and_publishes_because_they_pass():
    run(
        "load_question_set",
        str(SKINPEN / "skinpen.json"),
        "--cases",
        str(SKINPEN / "skinpen.cases.json"),
        "--publish",
    )

    version = QuestionSetVersion.objects.get()
    assert version.status == VersionStatus.PUBLISHED
    assert version.test_cases == json.loads((SKINPEN / "skinpen.cases.json").read_text())


def load_and_publish(tmp_path, document, cases):
    """`load_question_set --publish` with these test cases."""
    return run(
        "load_question_set",
        str(write_json(tmp_path, "a.json", document)),
        "--cases",
        str(write_json(tmp_path, "cases.json", cases)),
        "--publish",
    )


def test_cases_that_name_flag_codes_without_tiers_stop_publishing(tmp_path, make_document):
    cases = [
        {
            "name": "Recent dose, code only",
            "submitted_on": "2025-05-01",
            "answers": {"isotretinoin": "yes", "last_dose": "2025-04-01"},
            "expect": ["oral_isotretinoin"],
        }
    ]

    with pytest.raises(CommandError) as raised:
        load_and_publish(tmp_path, make_document(), cases)

    assert 'Test case "Recent dose, code only" fails: oral_isotretinoin: no tier stated' in str(
        raised.value
    )
    assert not QuestionSetVersion.objects.exists()


def test_loading_with_a_failing_case_refuses_to_publish_and_stores_nothing(tmp_path, make_document):
    cases = [
        {
            "name": "Wrong",
            "submitted_on": "2026-03-02",
            "answers": {"isotretinoin": "no"},
            "expect": [{"code": "x", "tier": "manageable"}],
        }
    ]

    with pytest.raises(CommandError) as raised:
        load_and_publish(tmp_path, make_document(), cases)

    assert 'Test case "Wrong" fails: missing flags: x.' in str(raised.value)
    assert not QuestionSetVersion.objects.exists()


def test_loading_with_a_malformed_cases_file_stores_nothing(tmp_path, make_document):
    cases = write_json(tmp_path, "cases.json", {"name": "not a list"})

    with pytest.raises(CommandError, match=r"A cases file must be a JSON list of cases\."):
        run(
            "load_question_set",
            str(write_json(tmp_path, "a.json", make_document())),
            "--cases",
            str(cases),
        )

    assert not QuestionSetVersion.objects.exists()


# Synthetic submissions for benchmarks (bench/seed.py)


def seed(*args: str) -> str:
    from bench import seed as script

    return script.main(args)


def test_seeded_submissions_carry_the_flags_the_rules_engine_gives_their_answers():
    import datetime

    from django.utils import timezone

    from intake.models import Submission
    from intake.rules import check_answers, evaluate

    run("load_question_set", str(SKINPEN / "skinpen.json"), "--publish")

    output = seed("--count", "800")

    assert "Added 800 synthetic submissions" in output
    submissions = list(Submission.objects.select_related("version"))
    assert len(submissions) == 800
    assert len({s.reference for s in submissions}) == 800
    today = timezone.localdate()
    days = {s.submitted_on for s in submissions}
    assert min(days) >= today - datetime.timedelta(days=730) and max(days) <= today
    assert len(days) > 450  # spread over the two years
    definition = published.questionnaire(submissions[0].version).definition
    flagged = 0
    for submission in submissions[::10]:
        assert (
            check_answers(definition, submission.answers, submitted_on=submission.submitted_on)
            == []
        )
        expected = evaluate(
            definition,
            submission.answers,
            submitted_on=submission.submitted_on,
            reference_date=submission.treatment_date,
        )
        stored = list(submission.current_flags().order_by("position"))
        assert [f.code for f in stored] == [f.code for f in expected.flags]
        assert submission.outcome == (expected.outcome or "")
        flagged += bool(stored)
    assert flagged  # some patients have something to flag, as in real life
    # Old submissions are mostly decided, recent ones mostly wait for review.
    old = [s for s in submissions if s.submitted_on < today - datetime.timedelta(days=30)]
    assert sum(s.review_status == "new" for s in old) < len(old) * 0.1


def test_seeding_needs_a_published_question_set():
    with pytest.raises(SystemExit, match="no published version"):
        seed("--count", "10")


def test_loading_cases_that_leave_a_required_question_unanswered_names_them(
    tmp_path, make_document
):
    cases = [{"name": "Silent", "submitted_on": "2026-03-02", "answers": {}, "expect": []}]

    with pytest.raises(CommandError) as raised:
        load_and_publish(tmp_path, make_document(), cases)

    assert 'Test case "Silent" fails: it leaves required questions unanswered: isotretinoin' in str(
        raised.value
    )
    assert not QuestionSetVersion.objects.exists()
