"""The practitioners' review queue and submission page, and the audit log.

What a patient answered and the flags raised from it are never editable here, by anyone: the
submission page is a page of its own, and decisions are separate, audited rows. The queue's
filters and rows live in intake/review/queue.py, the submission page's content in
intake/review/pages.py, and the decisions themselves in intake/review/decisions.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db import models
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters

from clinic.logs import security_event
from clinic.text import isolated
from intake import published
from intake.admin import on_the_day
from intake.models import (
    Assessment,
    AuditAction,
    AuditEntry,
    Flag,
    FlagDecision,
    ReviewEvent,
    Signature,
    Submission,
    SubmissionChange,
    User,
)
from intake.models.reviews import CLEARING
from intake.questionnaire import display_answer
from intake.records import fhir
from intake.records.exports import write_submissions_csv
from intake.review import queue, rechecks
from intake.review.decisions import (
    ConcurrentChange,
    DecisionRefused,
    SignatureRefused,
    answers_now,
    change_review_status,
    change_treatment_date,
    correct_answer,
    correctable_questions,
    decide_flag,
    mark_treated,
    reopen,
)
from intake.review.forms import (
    AnswerCorrectionForm,
    FlagDecisionForm,
    ReopenForm,
    ReviewStatusForm,
    TreatedForm,
    TreatmentDateForm,
)
from intake.review.pages import current_flags, date_changes, review_context


class RecordOnly:
    """Nobody, superusers included, adds, changes or deletes these rows through the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Submission)
class SubmissionAdmin(RecordOnly, admin.ModelAdmin[Submission]):
    # The columns are defined beside QueueRows, which writes them in one pass.
    list_display = list(queue.COLUMNS)
    list_filter = [
        queue.ViewFilter,
        queue.OutcomeFilter,
        ("review_status", queue.ReviewStatusFilter),
        queue.DeclaredFlagFilter,
        queue.TreatmentDateFilter,
        queue.ReCheckFilter,
        "version__question_set",
        queue.VersionFilter,
    ]
    # Search is queue.search (prefixes, each read from an index); these name what it compares.
    search_fields = ["reference", "patient_name", "email"]
    search_help_text = (
        "A reference (with or without its dash), or the beginning of a patient's name or email."
    )
    list_select_related = ["reviewer"]
    # No second count of the whole table beside the filtered one on every page view, and the
    # filtered one stops at CappedCountPaginator.CAP.
    show_full_result_count = False
    paginator = queue.CappedCountPaginator
    list_per_page = 50
    # How the submission page's rows load what they were not fetched with; the tests make it
    # FETCH_RAISE to prove that the page needs nothing beyond its few queries.
    submission_fetch_mode = models.FETCH_ONE
    # The order with the primary key last: the admin would otherwise add "-pk", which the
    # queue's indexes cannot serve, and sort every matching row before showing the first 50.
    # It depends on the view (get_ordering).
    ordering = tuple(queue.QUEUE_ORDER)
    actions = ["export_csv"]

    class Media:
        css = {"all": ["intake/admin.css"]}

    def get_ordering(self, request: HttpRequest) -> tuple[str, ...]:
        """By treatment date, then severity; in views beyond those waiting for a decision,
        unreviewed first."""
        return tuple(queue.ordering(request.GET))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Submission], search_term: str
    ) -> tuple[QuerySet[Submission], bool]:
        # The whole text as one prefix ("Ann Exa" finds Ann Example), never a scan of the table.
        return queue.search(queryset, search_term), False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The queue needs the page's whole width: no navigation sidebar beside it (the
        # breadcrumbs and the header lead everywhere else).
        context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        return super().changelist_view(request, context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Submission]:
        # The queue never loads the answers (free-text health data stays off the list), nor any
        # other column it does not show: each one loaded costs time on every row of every page.
        return super().get_queryset(request).select_related("reviewer").only(*queue.QUEUE_FIELDS)

    @admin.display(description="Patient name", ordering="patient_name")
    def patient(self, submission: Submission) -> str | None:
        """The name, kept in its own direction whatever characters it holds (clinic/text.py)."""
        name = submission.patient_name.strip()
        return format_html("<bdi>{}</bdi>", name) if name else None

    @admin.display(description="Outcome", ordering="severity")
    def outcome_badge(self, submission: Submission) -> str:
        return queue.outcome_badge(submission.outcome)

    @admin.display(description="Flags")
    def flags_in_short(self, submission: Submission) -> str:
        # Each code may wrap after its underscores: the column stays narrow.
        return queue.flags_in_short(submission.flag_codes)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<str:object_id>/print/", view(self.print_view), name="intake_submission_print"),
            path("<str:object_id>/fhir.json", view(self.fhir_view), name="intake_submission_fhir"),
            path(
                "<str:object_id>/on-the-day/",
                view(self.on_the_day_view),
                name="intake_submission_on_the_day",
            ),
            *super().get_urls(),
        ]

    def _submission(
        self, request: HttpRequest, object_id: str, *, whole_version: bool = False
    ) -> Submission:
        """The submission with everything its page shows, in a fixed number of queries.

        Staff are shown by their username, and the version by its name, so that is all that is
        loaded of them; `whole_version` loads the version entire (its definition included).
        """
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            pk = uuid.UUID(object_id)
        except ValueError:
            raise Http404("No such submission.") from None
        # Each queryset carries the fetch mode, as rows from a prefetch do not inherit it.
        mode = self.submission_fetch_mode
        decisions = FlagDecision.objects.select_related("by").only(
            *_fields(FlagDecision), "by__username"
        )
        # By position only: the model's order would join each flag's assessment to sort by it.
        flags = Flag.objects.order_by("position").prefetch_related(
            Prefetch("decisions", queryset=decisions.fetch_mode(mode))
        )
        assessments = (
            Assessment.objects.select_related("by")
            .only(*_fields(Assessment), "by__username")
            .prefetch_related(Prefetch("flags", queryset=flags.fetch_mode(mode)))
        )
        events = ReviewEvent.objects.select_related("by").only(
            *_fields(ReviewEvent), "by__username"
        )
        signatures = Signature.objects.select_related("by").only(
            *_fields(Signature), "by__username"
        )
        changes = SubmissionChange.objects.select_related("by").only(
            *_fields(SubmissionChange), "by__username"
        )
        submissions = Submission.objects.select_related("version__question_set", "reviewer")
        if not whole_version:
            # The version's name, and its content hash for its parsed definition (cached per
            # process by intake.published), not its tens of kilobytes of JSON.
            submissions = submissions.only(
                *_fields(Submission),
                *[f"version__{name}" for name in ("number", "label", "content_hash")],
                "version__question_set__title",
                "reviewer__username",
            )
        try:
            return (
                submissions.prefetch_related(
                    Prefetch("assessments", queryset=assessments.fetch_mode(mode)),
                    Prefetch("review_events", queryset=events.fetch_mode(mode)),
                    Prefetch("signatures", queryset=signatures.fetch_mode(mode)),
                    Prefetch("changes", queryset=changes.fetch_mode(mode)),
                )
                .fetch_mode(mode)
                .get(pk=pk)
            )
        except Submission.DoesNotExist:
            raise Http404("No such submission.") from None

    @method_decorator(sensitive_post_parameters("signature"))
    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The submission page: flags first, then every answer, then the review history.

        A posted decision goes to its own handler. A refused one shows the page again with the
        form as it was typed and what is wrong with it; a saved one goes back to the page.
        """
        submission = self._submission(request, object_id)
        refused: forms.Form | None = None
        status = 200
        if request.method == "POST":
            if not request.user.has_perm("intake.review_submission"):
                raise PermissionDenied
            refused = _handler(request.POST)(request, submission)
            if refused is None:
                messages.success(request, "Saved.")
                return HttpResponseRedirect(request.path)
            status = 400
        else:
            AuditEntry.record_view(request.user, submission)
        can_review = request.user.has_perm("intake.review_submission")
        correction = self._correction(request, submission, refused) if can_review else {}
        if correction.get("chooser_error"):
            status = 400
        flag_form = refused if isinstance(refused, FlagDecisionForm) else None
        can_review = request.user.has_perm("intake.review_submission")
        context = {
            **self.admin_site.each_context(request),
            **review_context(submission, flag_form=flag_form),
            "opts": self.opts,
            "title": f"{isolated(submission.patient_name)} – {submission.reference}",
            "status_form": refused
            if isinstance(refused, ReviewStatusForm)
            else ReviewStatusForm(initial={"status": submission.review_status}),
            "date_form": refused if isinstance(refused, TreatmentDateForm) else None,
            "reopen_form": refused if isinstance(refused, ReopenForm) else ReopenForm(),
            "refused": refused,
            "decision_problems": _problems(refused) if refused is not None else [],
            "can_review": can_review,
            # A signed submission takes no decision until it is reopened.
            "can_decide": can_review and not submission.locked,
            "can_override": request.user.has_perm("intake.override_not_possible"),
            "checks": rechecks.checks_shown(submission),
            "recheck_state": queue.recheck_state(submission),
            "can_mark_treated": can_review and submission.review_status in CLEARING,
            "treated_form": refused if isinstance(refused, TreatedForm) else TreatedForm(),
            **correction,
        }
        return TemplateResponse(
            request, "admin/intake/submission/review.html", context, status=status
        )

    def _correction(
        self, request: HttpRequest, submission: Submission, refused: forms.Form | None
    ) -> dict[str, Any]:
        """The "correct an answer" part of the page: the questions to choose from and, once one
        is chosen (`?correct=<question>`, or a refused correction), its form."""
        questions = correctable_questions(submission)
        chooser_error = ""
        if isinstance(refused, AnswerCorrectionForm):
            form: AnswerCorrectionForm | None = refused
        else:
            form = None
            chosen = request.GET.get("correct")
            if chosen is not None:
                form = AnswerCorrectionForm(
                    questions=questions, initial={"answer_question": chosen}
                )
                if form.question is None:
                    form = None
                    chooser_error = "Choose one of the questions this patient was asked."
        answers = answers_now(submission, published.questionnaire(submission.version).definition)[0]
        question = form.question if form is not None else None
        current = ""
        if question is not None:
            value = answers.get(question.key)
            current = "Not answered" if value is None else display_answer(question, value)
        return {
            "correction_form": form,
            "correctable": [(q.key, q.text) for q in questions],
            "chosen_question": question,
            "current_answer": current,
            "chooser_error": chooser_error,
        }

    def on_the_day_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The on-the-day check, for a tablet beside the patient (intake.admin.on_the_day)."""
        submission = self._submission(request, object_id)
        return on_the_day.on_the_day_view(
            request, submission, each_context=self.admin_site.each_context(request)
        )

    def print_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The whole submission on paper, for the patient's file."""
        submission = self._submission(request, object_id)
        AuditEntry.record(request.user, AuditAction.PRINT, submission)
        security_event(request, "export", what="submission_print", submissions=1)
        context = {
            **review_context(submission),
            "date_changes": date_changes(submission),
            "checks": rechecks.checks_shown(submission),
            "printed_at": timezone.now(),
            "isolated_name": isolated(submission.patient_name),
        }
        return TemplateResponse(request, "admin/intake/submission/print.html", context)

    def fhir_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The submission as an HL7 FHIR R4 QuestionnaireResponse to its own version."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        submission = self._submission(request, object_id, whole_version=True)
        AuditEntry.record(
            request.user, AuditAction.EXPORT, submission, references=[submission.reference]
        )
        resource = fhir.questionnaire_response(submission)
        response = HttpResponse(
            json.dumps(resource, indent=2), content_type="application/fhir+json"
        )
        filename = f"questionnaire-response-{submission.reference}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @admin.action(description="Export selected submissions as CSV", permissions=["export"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Submission]) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="submissions.csv"'
        references = write_submissions_csv(response, queryset)
        AuditEntry.record(
            request.user, AuditAction.EXPORT, count=len(references), references=references
        )
        security_event(request, "export", what="submissions_csv", submissions=len(references))
        return response

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("intake.export_submission")


# A decision's handler takes the posted form and applies it: it returns None once the decision
# is saved, or the form, bound and carrying what is wrong, when it is refused.
type Handler = Callable[[HttpRequest, Submission], forms.Form | None]


def _handler(posted: Any) -> Handler:
    """The handler of the kind of decision a posted form makes."""
    if "answer_question" in posted:
        return _correct_answer
    if "date_reason" in posted:
        return _change_treatment_date
    if "reopen_reason" in posted:
        return _reopen
    if "treated_reason" in posted:
        return _mark_treated
    if "flag" in posted:
        return _decide_flag
    return _change_review_status


def _refuse(form: forms.Form, refused: DecisionRefused) -> forms.Form:
    """The form, carrying the refusal: on each field it names, or on the whole form."""
    named = {name: text for name, text in refused.problems.items() if name in form.fields}
    if not named:
        form.add_error(None, forms.ValidationError(str(refused), code="refused"))
    for name, text in named.items():
        form.add_error(name, forms.ValidationError(text, code="refused"))
    return form


def _change_review_status(request: HttpRequest, submission: Submission) -> forms.Form | None:
    form = ReviewStatusForm(request.POST)
    if not form.is_valid():
        return form
    try:
        change_review_status(
            submission,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
            rebook_after=form.cleaned_data["rebook_after"],
            by=_staff(request),
            revision=form.cleaned_data["revision"],
            signature=form.cleaned_data["signature"],
        )
    except SignatureRefused as refused:
        security_event(request, "signature_refused", submission=str(submission.pk))
        form.add_error("signature", forms.ValidationError(str(refused), code="refused"))
        return form
    except DecisionRefused as refused:
        return _refuse(form, refused)
    return None


def _reopen(request: HttpRequest, submission: Submission) -> forms.Form | None:
    form = ReopenForm(request.POST)
    if not form.is_valid():
        return form
    try:
        reopen(
            submission,
            reason=form.cleaned_data["reopen_reason"],
            by=_staff(request),
            revision=form.cleaned_data["revision"],
        )
    except DecisionRefused as refused:
        return _refuse(form, refused)
    return None


def _mark_treated(request: HttpRequest, submission: Submission) -> forms.Form | None:
    form = TreatedForm(request.POST)
    if not form.is_valid():
        return form
    try:
        mark_treated(
            submission,
            reason=form.cleaned_data["treated_reason"],
            by=_staff(request),
            revision=form.cleaned_data["revision"],
        )
    except DecisionRefused as refused:
        return _refuse(form, refused)
    return None


def _decide_flag(request: HttpRequest, submission: Submission) -> forms.Form | None:
    form = FlagDecisionForm(request.POST)
    if not form.is_valid():
        return form
    flags = current_flags(submission)
    flag = next((f for f in flags if f.pk == form.cleaned_data["flag"]), None)
    if flag is None:
        earlier = (
            Flag.objects.filter(pk=form.cleaned_data["flag"], assessment__submission=submission)
            .only("code")
            .first()
        )
        if earlier is None:
            return _refuse(
                form, DecisionRefused("That flag is not one of this submission's flags.")
            )
        # The rules were checked again meanwhile (a new date, a corrected answer): what was
        # typed goes back on the flag as it stands now, with the reason nothing was saved.
        now = next((f for f in flags if f.code == earlier.code), None)
        if now is not None:
            data = request.POST.copy()
            data["flag"] = str(now.pk)
            form.data = data
        return _refuse(form, ConcurrentChange())
    try:
        decide_flag(
            flag,
            kind=form.cleaned_data["kind"],
            note=form.cleaned_data["note"],
            by=_staff(request),
            revision=form.cleaned_data["revision"],
            antiviral_plan=form.antiviral_plan(),
        )
    except DecisionRefused as refused:
        return _refuse(form, refused)
    return None


def _change_treatment_date(request: HttpRequest, submission: Submission) -> forms.Form | None:
    form = TreatmentDateForm(request.POST)
    if not form.is_valid():
        return form
    try:
        change_treatment_date(
            submission,
            treatment_date=form.cleaned_data["treatment_date"],
            reason=form.cleaned_data["date_reason"],
            by=_staff(request),
            revision=form.cleaned_data["revision"],
        )
    except DecisionRefused as refused:
        return _refuse(form, refused)
    return None


def _correct_answer(request: HttpRequest, submission: Submission) -> forms.Form | None:
    form = AnswerCorrectionForm(request.POST, questions=correctable_questions(submission))
    if not form.is_valid():
        return form
    assert form.question is not None  # noqa: S101 - a valid form has a question to correct
    try:
        correct_answer(
            submission,
            question_key=form.question.key,
            value=form.value(),
            reason=form.cleaned_data["answer_reason"],
            by=_staff(request),
            revision=form.cleaned_data["revision"],
        )
    except DecisionRefused as refused:
        return _refuse(form, refused)
    return None


# Where a decision form's fields are on the page: a flag form's field ids are its name and the
# flag's id ("dose-12"), so that each problem in the summary links to its field.
_FLAG_FIELD_IDS = {name: name for name in FlagDecisionForm.base_fields} | {
    "offered": "offered-yes",
    "accepted": "accepted-yes",
}
_PAGE_FIELDS = {
    "status",
    "reason",
    "rebook_after",
    "signature",
    "treatment_date",
    "date_reason",
    "reopen_reason",
    "answer_question",
    "answer",
    "answer_not_sure",
    "answer_reason",
}


def _problems(form: forms.Form) -> list[dict[str, str]]:
    """What is wrong with a refused decision, each problem naming its field and linking to it
    (a problem with the decision as a whole links to the form's first field)."""
    problems = []
    first = "note" if isinstance(form, FlagDecisionForm) else next(iter(form.fields))
    if isinstance(form, AnswerCorrectionForm) and "answer" in form.fields:
        first = "answer"
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = str(field.label) if field is not None and field.label else name.replace("_", " ")
        linked = first if name == NON_FIELD_ERRORS else name
        if isinstance(form, FlagDecisionForm) and linked in _FLAG_FIELD_IDS:
            anchor = f"{_FLAG_FIELD_IDS[linked]}-{form.data.get('flag', '')}"
        else:
            anchor = f"id_{linked}" if linked in _PAGE_FIELDS else ""
        for error in errors:
            named = f"{label[:1].upper()}{label[1:]}: {error}"
            text = str(error) if name == NON_FIELD_ERRORS else named
            problems.append({"text": text, "anchor": anchor})
    return problems


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - the admin lets only signed-in staff this far
    return user


def _fields(model: type[models.Model]) -> list[str]:
    """A model's own columns, for `only()` beside some of a related row's."""
    return [field.name for field in model._meta.concrete_fields]


@admin.register(AuditEntry)
class AuditEntryAdmin(RecordOnly, admin.ModelAdmin[AuditEntry]):
    list_display = ["at", "user", "action", "reference"]
    list_filter = ["action", "user", ("at", admin.DateFieldListFilter)]
    search_fields = ["=reference"]
    list_select_related = ["user"]
    show_full_result_count = False
