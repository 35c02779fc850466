"""Helpers and data shared by the test modules: patients' posts, submissions, staff, admin forms.

Test modules import these from here, never from one another (tests/test_test_layout.py checks).
"""

import datetime
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from intake import published
from intake.models import Draft, Invitation, QuestionSetVersion, Submission, User
from intake.rules import evaluate, visible_questions

SKINPEN = Path(__file__).resolve().parent.parent / "intake" / "question_sets" / "skinpen.json"
# The clinic's date when the tests were collected. Every test module takes "today" from here, and
# tests/conftest.py holds each test's clock at midday on this date, so a run that goes on past
# midnight still sees one date on both sides of a request.
TODAY = timezone.localdate()
APPOINTMENT = TODAY + datetime.timedelta(days=30)

# --- The patient's side: form posts, as a browser without JavaScript sends them ----------------

# A patient with nothing to flag: "no" wherever that is an answer, otherwise the mildest choice.
NOTHING_TO_FLAG: dict[str, Any] = {
    "treatment_areas": ["cheeks"],
    "concerns": ["texture_pores"],
    "diabetes": "no",
    "acne_now": "none",
    "skin_type": "type_2",
}

DETAILS = {
    "full_name": "Ann Example",
    "date_of_birth_day": "3",
    "date_of_birth_month": "4",
    "date_of_birth_year": "1990",
    "email": "ann@example.com",
    "phone": "07700 900123",
}


def post_value(question: Any, value: Any) -> dict[str, Any]:
    """How a browser posts an answer in the engine's format."""
    key = question.key
    if question.type != "date":
        return {key: value}
    if value == "not_sure":
        return {f"{key}_not_sure": "on"}
    parts = value.split("-")
    day = parts[2] if len(parts) == 3 else ""
    return {f"{key}_day": day, f"{key}_month": parts[1], f"{key}_year": parts[0]}


def section_post(
    version: QuestionSetVersion, section_key: str, *, fill: bool = True, **answers: Any
) -> dict[str, Any]:
    """POST data for one section: these answers, the mildest to the rest (follow-ups if `fill`)."""
    definition = published.questionnaire(version).definition
    section = next(s for s in definition.sections if s.key == section_key)
    draft = Draft.objects.first()
    earlier = dict(draft.answers) if draft else {}
    reference = draft.treatment_date if draft else None
    chosen: dict[str, Any] = {}
    for question in section.questions:
        if question.key == "date_of_birth":
            continue
        shown = visible_questions(
            definition,
            earlier | chosen,
            submitted_on=timezone.localdate(),
            reference_date=reference,
        )
        if question.key in answers:
            chosen[question.key] = answers[question.key]
        elif skipped(question, shown, fill=fill):
            continue
        elif question.key in NOTHING_TO_FLAG:
            chosen[question.key] = NOTHING_TO_FLAG[question.key]
        elif question.type in ("yes_no", "yes_no_not_sure"):
            chosen[question.key] = "no"
        elif question.type == "date":
            chosen[question.key] = "not_sure" if question.allow_not_sure else "2020-01-01"
        elif question.type in ("short_text", "long_text"):
            chosen[question.key] = "Details"
        else:
            chosen[question.key] = question.choices[-1].code
    data: dict[str, Any] = {}
    for key, value in chosen.items():
        data |= post_value(definition.questions[key], value)
    return data


def skipped(question: Any, shown: frozenset[str], *, fill: bool) -> bool:
    """Hidden or optional questions get no default; nor do follow-ups unless `fill`."""
    if question.key not in shown or not question.required:
        return True
    return question.show_if is not None and not fill


def step_url(number: int) -> str:
    """The address of the questionnaire's step `number`."""
    return f"/questionnaire/{number}/"


def appointment_post(treatment_date: datetime.date | None) -> dict[str, str]:
    """The appointment date's day, month and year boxes as a patient fills them in."""
    parts = (
        (str(treatment_date.day), str(treatment_date.month), str(treatment_date.year))
        if treatment_date
        else ("", "", "")
    )
    return {
        f"treatment_date_{box}": part
        for box, part in zip(("day", "month", "year"), parts, strict=True)
    }


def start(client: Client, treatment_date: datetime.date | None = APPOINTMENT) -> Draft:
    """Start a questionnaire without an invitation; returns the new draft."""
    response = client.post("/start/", appointment_post(treatment_date))
    assert response.status_code == 302
    return Draft.objects.get()


def complete_until_check(client: Client, version: QuestionSetVersion, **answers: Any) -> int:
    """Fill in every step up to the check page; returns the check step's number."""
    steps = published.questionnaire(version).steps
    assert client.post(step_url(1), DETAILS | {"treatment_date": ""}).status_code == 302
    for step in steps[1:-1]:
        response = client.post(
            step_url(step.number), section_post(version, step.section_key, **answers)
        )
        assert response.status_code == 302, (step.title, response.content.decode()[:3000])
    return steps[-1].number


def submit(client: Client, number: int, name: str = "Ann Example") -> Any:
    """Consent and sign on the check step `number`: the questionnaire's final post."""
    consent = {"accurate": "on", "processing": "on", "signature": name}
    return client.post(step_url(number), consent)


def make_invitation(version: QuestionSetVersion, **changes: Any) -> tuple[Invitation, str]:
    """An invitation to the version's question set, and the token of its link."""
    invitation = Invitation(
        question_set=version.question_set,
        patient_name="Bea Invited",
        email="bea@example.com",
        treatment_date=APPOINTMENT,
    )
    token = invitation.issue_token()
    for name, value in changes.items():
        setattr(invitation, name, value)
    invitation.save()
    return invitation, token


# --- The review side: stored submissions and signed-in staff -----------------------------------

COLD_SORE = {"cold_sore_now": "no", "cold_sore_ever": "yes", "cold_sore_last_start": "2020-05"}
PREGNANT = {"pregnant_or_breastfeeding": "yes"}
# The SkinPen re-check's questions (those asked again before treatment), each answered as
# "nothing has changed since the questionnaire".
RECHECK_NOTHING_NEW = {
    "cold_sore_now": "no",
    "broken_or_irritated_skin": "no",
    "skin_infection": "no",
    "acne_now": "none",
    "pregnant_or_breastfeeding": "no",
    "could_be_pregnant": "no",
    "isotretinoin_last_12_months": "no",
    "blood_thinner": "no",
}
# A complete accepted antiviral plan, as FlagDecisionForm.antiviral_plan() gives it: from the
# day before the treatment day to the fifth day after.
ACCEPTED_PLAN = {
    "offered": True,
    "accepted": True,
    "risk_discussion": "",
    "consultation_date": (TODAY - datetime.timedelta(days=1)).isoformat(),
    "drug": "valaciclovir",
    "drug_other": "",
    "strength": "500 mg",
    "dose": "1 tablet",
    "route": "oral",
    "frequency": "twice daily",
    "quantity": "14 tablets",
    "start_day": -1,
    "end_day": 5,
    "interactions_checked": True,
    "kidney_checked": True,
    "allergy_checked": True,
    "prescriber": "Dr A Prescriber",
    "prescriber_body": "GMC",
    "prescriber_registration": "7654321",
    "issued_on": (TODAY - datetime.timedelta(days=1)).isoformat(),
    "issued_by": "Dr A Prescriber",
    "patient_told": True,
}
# What the antiviral plan form posts for ACCEPTED_PLAN (checkboxes ticked send "on").
ACCEPTED_PLAN_FORM = {
    name: ("yes" if name in ("offered", "accepted") else "on") if value is True else str(value)
    for name, value in ACCEPTED_PLAN.items()
}


def record_plan(flag: Any, by: User, *, note: str = "Plan agreed", **plan: Any) -> Any:
    """Acknowledge a flag with ACCEPTED_PLAN recorded (its fields as `plan` changes them), at its
    submission's current revision, as the decision form does; returns the decision."""
    from intake.review.decisions import decide_flag

    revision = Submission.objects.get(pk=flag.assessment.submission_id).revision
    return decide_flag(
        flag,
        kind="acknowledged",
        note=note,
        by=by,
        revision=revision,
        antiviral_plan=ACCEPTED_PLAN | plan,
    )


def make_submission(version, answers: dict[str, Any] | None = None, **fields: Any) -> Submission:
    """A stored submission with the flags the real rules engine raises for its answers."""
    answers = {"date_of_birth": "1990-04-03"} | (answers or {})
    # The clinic's date as the test runs: TODAY under the tests' held clock, and the real date
    # in the browser tests, whose server keeps the real clock.
    today = timezone.localdate()
    treatment = fields.pop("treatment_date", today + datetime.timedelta(days=10))
    evaluation = evaluate(
        published.questionnaire(version).definition,
        answers,
        submitted_on=today,
        reference_date=treatment,
    )
    submission = Submission(
        version=version,
        patient_name=fields.pop("patient_name", "Ann Example"),
        date_of_birth=datetime.date(1990, 4, 3),
        email=fields.pop("email", "ann@example.com"),
        phone="07700 900123",
        answers=evaluation.answers,
        treatment_date=treatment,
        consent_name="Ann Example",
        consented_at=timezone.now(),
        **fields,
    )
    # Stored with its first assessment, which sets the outcome and flag codes the queue shows.
    submission.record_assessment(evaluation, reference_date=treatment or today)
    return submission


# The password of every account `staff` makes; a clearing decision is signed with it.
STAFF_PASSWORD = "a-long-password-123"


def staff(name: str, *groups: str, superuser: bool = False) -> User:
    """A staff account in the given roles (groups), with the suite's password."""
    user = User.objects.create_user(name, password=STAFF_PASSWORD, is_staff=True)
    user.is_superuser = superuser
    user.save()
    for group in groups:
        user.groups.add(Group.objects.get(name=group))
    return User.objects.get(pk=user.pk)


def role_account(name: str, group: str) -> User:
    """A staff account in one role, made once per test under that name."""
    user, created = User.objects.get_or_create(username=name, defaults={"is_staff": True})
    if created:
        user.groups.add(Group.objects.get(name=group))
    return user


def publish_approved(version: QuestionSetVersion, *, by: User | None = None) -> None:
    """Publish a draft as the two-person rule has it: a clinic admin submits it, a medical lead
    who did not edit it approves it, then it is published (by `by`, else the clinic admin)."""
    author = role_account("question-set-author", "Clinic admin")
    lead = role_account("question-set-approver", "Medical lead")
    version.submit_for_approval(by=author)
    version.approve(
        by=lead, note="Read the changes and the test cases.", seen_hash=version.approval_hash()
    )
    version.publish(by=by or author)


def logged_in(client, user):
    """Sign a staff member in, past the second factor (an authenticator already confirmed)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def page(submission: Submission) -> str:
    """The submission's page in the admin."""
    return f"/admin/intake/submission/{submission.pk}/change/"


# --- Question-set authoring in the admin ---------------------------------------------------------


def _value(bound_field: Any) -> Any:
    """What a browser posts for one bound field (None: nothing, like an unticked box)."""
    value = bound_field.value()
    widget = bound_field.field.widget
    if widget.input_type == "checkbox" if hasattr(widget, "input_type") else False:
        return "on" if value else None
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return str(value)


def _add_form(data: dict[str, Any], form: Any) -> None:
    """Add what a browser would post for the form's enabled fields to `data`."""
    for bound_field in form:
        if bound_field.field.disabled:
            continue
        value = _value(bound_field)
        if value is not None:
            data[bound_field.html_name] = value


def change_form_data(response: Any) -> dict[str, Any]:
    """What the admin change page would post back unchanged: main form and every inline."""
    data: dict[str, Any] = {}
    _add_form(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        _add_form(data, formset.management_form)
        for form in formset.forms:
            _add_form(data, form)
    return data


def add_inline_row(data: dict[str, Any], prefix: str, **fields: Any) -> None:
    """Append a new row to an inline formset in posted data."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for name, value in fields.items():
        if value is True:
            value = "on"
        if value is False:
            continue
        data[f"{prefix}-{index}-{name}"] = value


def row_index(data: dict[str, Any], prefix: str, field: str, value: str) -> int:
    """The index of the inline row whose `field` has `value`."""
    for index in range(int(data[f"{prefix}-TOTAL_FORMS"])):
        if data.get(f"{prefix}-{index}-{field}") == value:
            return index
    raise KeyError(f"No {prefix} row with {field}={value}")


def submission_for(version: Any, answers: dict[str, Any], **fields: Any) -> Any:
    """A stored submission to a published version, with the flags the rules engine raises."""
    today = timezone.localdate()
    evaluation = evaluate(
        published.questionnaire(version).definition,
        answers,
        submitted_on=today,
        reference_date=None,
    )
    submission = Submission(
        version=version,
        patient_name="Ann Example",
        date_of_birth=datetime.date(1990, 4, 3),
        email="ann@example.com",
        phone="07700 900123",
        answers=evaluation.answers,
        consent_name="Ann Example",
        consented_at=timezone.now(),
        **fields,
    )
    submission.record_assessment(evaluation, reference_date=today)
    return submission


# --- Real-browser helpers (tests/browser) -------------------------------------------------------

SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
BROWSER_PASSWORD = "a-long-password-for-staff"


def role(name: str, *extra: str) -> Group:
    """A role as the migrations make it (transactional tests empty the database, roles too)."""
    import importlib

    from django.contrib.auth.models import Permission

    codenames = [*importlib.import_module("intake.migrations.0004_roles").ROLES[name], *extra]
    group, _ = Group.objects.get_or_create(name=name)
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="intake", codename__in=codenames)
    )
    return group


def staff_device(username: str, group: Group) -> Any:
    """A staff account in a role, with a confirmed authenticator to sign in with."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = User.objects.create_user(username, password=BROWSER_PASSWORD, is_staff=True)
    user.groups.add(group)
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def sign_in(page: Any, base: str, device: Any) -> None:
    """Sign in to the admin in a real browser, past the second step."""
    from django_otp.oath import totp
    from playwright.sync_api import expect

    page.goto(base + "/admin/")
    page.get_by_label("Username").fill(device.user.username)
    page.get_by_label("Password").fill(BROWSER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Clinic administration")).to_be_visible()


def no_serious_violations(page: Any) -> None:
    """axe-core finds nothing serious or critical on the page."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    serious = [(v["id"], v["impact"]) for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], page.url


def no_axe_violations(page: Any) -> None:
    """axe-core finds nothing at all on the page, of any impact (the patient's pages)."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    assert [(v["id"], v["impact"]) for v in violations] == [], page.url


def photograph(page: Any, name: str) -> None:
    """Check with axe and photograph at desktop and phone widths."""
    for width, height, device in ((1280, 900, "desktop"), (390, 844, "phone")):
        page.set_viewport_size({"width": width, "height": height})
        no_serious_violations(page)
        page.screenshot(path=SCREENSHOTS / f"staff-{name}-{device}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def fill_antiviral_plan(flag: Any, consultation: datetime.date) -> None:
    """Fill in a complete antiviral prescription in a flag's open decision form (real browser):
    valaciclovir 500 mg twice daily from the day before treatment to day 5."""
    flag.locator('input[name="offered"][value="yes"]').check()
    flag.locator('input[name="accepted"][value="yes"]').check()
    flag.get_by_label("Date of the face-to-face consultation").fill(consultation.isoformat())
    flag.get_by_label("Drug", exact=True).select_option("valaciclovir")
    for label, value in (
        ("Strength", "500 mg"),
        ("Dose", "1 tablet"),
        ("Route", "oral"),
        ("Frequency", "twice daily"),
        ("Quantity", "14 tablets"),
        ("First day", "-1"),
        ("Last day", "5"),
        ("Prescriber's name", "Dr A Prescriber"),
        ("Registration number", "7654321"),
        ("Date the prescription was issued", consultation.isoformat()),
        ("Issued by", "Dr A Prescriber"),
    ):
        flag.get_by_label(label, exact=True).fill(value)
    flag.get_by_label("Professional body").select_option("GMC")
    for box in (
        "Kidney function checked",
        "Antiviral allergies checked",
        "Interaction check done",
        "The patient was told how to take it",
    ):
        flag.get_by_label(box).check()
