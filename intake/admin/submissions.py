"""The practitioners' review queue and submission page, and the audit log.

What a patient answered and the flags raised from it are never editable here, by anyone: the
submission page is a page of its own, and decisions are separate, audited rows.
"""

from __future__ import annotations

import csv
import datetime
import itertools
import json
import uuid
from html import escape
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import F, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import linebreaksbr
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from clinic.logs import security_event
from intake.models import (
    Assessment,
    AuditAction,
    AuditEntry,
    Flag,
    FlagDecision,
    QuestionSetVersion,
    ReviewEvent,
    ReviewStatus,
    Submission,
    Tier,
)
from intake.models.reviews import DECIDED, REVIEW_ORDER
from intake.questionnaire import display_answer, display_date
from intake.records import fhir
from intake.review import queue as queue_rows
from intake.review.decisions import (
    COLD_SORE_FLAGS,
    DecisionRefused,
    change_review_status,
    change_treatment_date,
    decide_flag,
    flag_changes,
)
from intake.review.forms import FlagDecisionForm, ReviewStatusForm, TreatmentDateForm

OUTCOME_LABELS = dict(Tier.choices)


def _outcome_badge(outcome: str) -> str:
    label = OUTCOME_LABELS.get(outcome, "No flags")
    return format_html('<span class="outcome outcome-{}">{}</span>', outcome or "none", label)


# The queue's outcome badges, made once ("" is a submission without flags).
OUTCOME_BADGES = {outcome: _outcome_badge(outcome) for outcome in [*Tier.values, ""]}
# What the queue shows of a submission (SubmissionAdmin.list_display, and the reference its
# selection box is labelled with); nothing else is loaded for it, the answers least of all.
QUEUE_FIELDS = [
    "reference",
    "patient_name",
    "submitted_at",
    "treatment_date",
    "outcome",
    "flag_codes",
    "review_status",
    "reviewer__username",
]
# The largest primary key a database column holds (a signed 64-bit integer).
LARGEST_ID = 2**63 - 1


class OutcomeFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*Tier.choices, ("none", "No flags")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "none":
            return queryset.filter(outcome="")
        if value in Tier.values:
            return queryset.filter(outcome=value)
        return queryset


class VersionFilter(admin.SimpleListFilter):
    title = "question set version"
    parameter_name = "version"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # One query for every version, with only what their names need: a version's other
        # columns (its definition and test cases above all) are tens of kilobytes of JSON each.
        versions = (
            QuestionSetVersion.objects.exclude(status="draft")
            .select_related("question_set")
            .only("number", "label", "question_set__title")
        )
        return [(str(version.pk), str(version)) for version in versions]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        # A tampered link ("²" passes isdigit() but not int(); 30 digits overflow the column)
        # lists nothing rather than failing.
        if not value.isdecimal() or int(value) > LARGEST_ID:
            return queryset.none()
        return queryset.filter(version_id=int(value))


class ReviewStatusFilter(admin.ChoicesFieldListFilter):
    """Review status, also narrowed by the queue's order column so the queue index serves it."""

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        filtered = super().queryset(request, queryset)
        queryset = queryset if filtered is None else filtered
        status = self.lookup_val[-1] if self.lookup_val else None
        if status in ReviewStatus.values:
            # review_order follows from the status: saying so lets "new, treated this week"
            # read one narrow range of queue_order_idx instead of every new submission.
            queryset = queryset.filter(review_order=REVIEW_ORDER.get(ReviewStatus(status), DECIDED))
        return queryset


class CappedCountPaginator(Paginator):  # type: ignore[type-arg]
    """Counts at most CAP rows: the queue never counts a whole table on every page view.

    Beyond the cap the page links stop, but later pages can still be opened by number.
    """

    CAP = 1000

    @cached_property
    def count(self) -> int:
        rows: QuerySet[Any] = self.object_list  # type: ignore[assignment]
        return int(rows.order_by()[: self.CAP + 1].count())

    @property
    def capped(self) -> bool:
        return self.count > self.CAP

    def validate_number(self, number: Any) -> int:
        if not self.capped:
            return super().validate_number(number)
        try:
            return max(1, int(number))
        except (TypeError, ValueError):
            return 1

    def page(self, number: Any) -> Any:
        if not self.capped:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return Page(self.object_list[bottom : bottom + self.per_page], number, self)


class ColdSoreFilter(admin.SimpleListFilter):
    title = "cold-sore flag"
    parameter_name = "cold_sore"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Has a cold-sore flag"), ("no", "No cold-sore flag")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(flag_codes__contains="cold_sore_")
        if self.value() == "no":
            return queryset.exclude(flag_codes__contains="cold_sore_")
        return queryset


class TreatmentDateFilter(admin.SimpleListFilter):
    title = "treatment date"
    parameter_name = "treatment"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("today", "Today"), ("next_7_days", "Next 7 days"), ("past", "Past")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        today = timezone.localdate()
        if self.value() == "today":
            return queryset.filter(treatment_date=today)
        if self.value() == "next_7_days":
            week = today + datetime.timedelta(days=7)
            return queryset.filter(treatment_date__gte=today, treatment_date__lte=week)
        if self.value() == "past":
            return queryset.filter(treatment_date__lt=today)
        return queryset


def csv_safe(value: object) -> str:
    """A cell that a spreadsheet shows as text, never runs as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


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
    list_display = list(queue_rows.COLUMNS)
    list_filter = [
        OutcomeFilter,
        ("review_status", ReviewStatusFilter),
        ColdSoreFilter,
        TreatmentDateFilter,
        "version__question_set",
        VersionFilter,
    ]
    search_fields = ["patient_name", "email", "=reference"]
    list_select_related = ["reviewer"]
    # No second count of the whole table beside the filtered one on every page view, and the
    # filtered one stops at CappedCountPaginator.CAP.
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    # How the submission page's rows load what they were not fetched with; the tests make it
    # FETCH_RAISE to prove that the page needs nothing beyond its few queries.
    submission_fetch_mode = models.FETCH_ONE
    # The model's order with the primary key last: the admin would otherwise add "-pk", which
    # queue_order_idx cannot serve, and sort every matching row before showing the first 50.
    ordering = [
        "review_order",
        F("treatment_date").asc(nulls_last=True),
        "submitted_at",
        "id",
    ]
    actions = ["export_csv"]

    class Media:
        css = {"all": ["intake/admin.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Submission]:
        # The queue never loads the answers (free-text health data stays off the list), nor any
        # other column it does not show: each one loaded costs time on every row of every page.
        return super().get_queryset(request).select_related("reviewer").only(*QUEUE_FIELDS)

    @admin.display(description="Outcome", ordering="outcome")
    def outcome_badge(self, submission: Submission) -> str:
        badge = OUTCOME_BADGES.get(submission.outcome)
        return _outcome_badge(submission.outcome) if badge is None else badge

    @admin.display(description="Flags")
    def flags_in_short(self, submission: Submission) -> str:
        return ", ".join(submission.flag_codes.split()) or "–"

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<str:object_id>/print/", view(self.print_view), name="intake_submission_print"),
            path("<str:object_id>/fhir.json", view(self.fhir_view), name="intake_submission_fhir"),
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
        submissions = Submission.objects.select_related("version__question_set", "reviewer")
        if not whole_version:
            # The version's name, and its content hash for its parsed definition (cached per
            # process by QuestionSetVersion.compiled), not its tens of kilobytes of JSON.
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
                )
                .fetch_mode(mode)
                .get(pk=pk)
            )
        except Submission.DoesNotExist:
            raise Http404("No such submission.") from None

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The submission page: flags first, then every answer, then the review history."""
        submission = self._submission(request, object_id)
        status_form = ReviewStatusForm(initial={"status": submission.review_status})
        flag_form: FlagDecisionForm | None = None
        if request.method == "POST":
            if not request.user.has_perm("intake.review_submission"):
                raise PermissionDenied
            response, status_form, flag_form = self._decide(request, submission)
            if response is not None:
                return response
        else:
            AuditEntry.record(request.user, AuditAction.VIEW, submission)
        context = {
            **self.admin_site.each_context(request),
            **review_context(submission),
            "opts": self.opts,
            "title": f"{submission.patient_name} – {submission.reference}",
            "status_form": status_form,
            "flag_form": flag_form,
            "can_review": request.user.has_perm("intake.review_submission"),
            "can_override": request.user.has_perm("intake.override_not_possible"),
        }
        return TemplateResponse(request, "admin/intake/submission/review.html", context)

    def _decide(
        self, request: HttpRequest, submission: Submission
    ) -> tuple[HttpResponse | None, ReviewStatusForm, FlagDecisionForm | None]:
        """Apply a posted decision; on success redirect, otherwise return the forms to show."""
        status_form = ReviewStatusForm(initial={"status": submission.review_status})
        flag_form = None
        try:
            if "date_reason" in request.POST:
                date_form = TreatmentDateForm(request.POST)
                if not date_form.is_valid():
                    raise DecisionRefused(_form_problem(date_form))
                change_treatment_date(
                    submission,
                    treatment_date=date_form.cleaned_data["treatment_date"],
                    reason=date_form.cleaned_data["date_reason"],
                    by=request.user,  # type: ignore[arg-type]
                    revision=date_form.cleaned_data["revision"],
                )
            elif "flag" in request.POST:
                flag_form = FlagDecisionForm(request.POST)
                if not flag_form.is_valid():
                    raise DecisionRefused(_form_problem(flag_form))
                flag = next(
                    (
                        f
                        for f in current_flags(submission)
                        if f.pk == flag_form.cleaned_data["flag"]
                    ),
                    None,
                )
                if flag is None:
                    raise DecisionRefused("That flag is not one of this submission's flags.")
                decide_flag(
                    flag,
                    kind=flag_form.cleaned_data["kind"],
                    note=flag_form.cleaned_data["note"],
                    by=request.user,  # type: ignore[arg-type]
                    revision=flag_form.cleaned_data["revision"],
                    antiviral_plan=flag_form.antiviral_plan(),
                )
            else:
                status_form = ReviewStatusForm(request.POST)
                if not status_form.is_valid():
                    raise DecisionRefused(_form_problem(status_form))
                change_review_status(
                    submission,
                    status=status_form.cleaned_data["status"],
                    reason=status_form.cleaned_data["reason"],
                    rebook_after=status_form.cleaned_data["rebook_after"],
                    by=request.user,  # type: ignore[arg-type]
                    revision=status_form.cleaned_data["revision"],
                )
        except DecisionRefused as refused:
            messages.error(request, str(refused))
            return HttpResponseRedirect(request.path), status_form, flag_form
        messages.success(request, "Saved.")
        return HttpResponseRedirect(request.path), status_form, flag_form

    def print_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The whole submission on paper, for the patient's file."""
        submission = self._submission(request, object_id)
        AuditEntry.record(request.user, AuditAction.PRINT, submission)
        security_event(request, "export", what="submission_print", submissions=1)
        context = {**review_context(submission), "printed_at": timezone.now()}
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
        writer = csv.writer(response)
        writer.writerow(
            ["reference", "submitted", "treatment_date", "outcome", "flag_codes", "review_status"]
        )
        rows = queryset.order_by("submitted_at").values_list(
            "reference", "submitted_at", "treatment_date", "outcome", "flag_codes", "review_status"
        )
        references = []
        for reference, submitted, treatment, outcome, codes, status in rows.iterator():
            references.append(reference)
            writer.writerow(
                [
                    csv_safe(reference),
                    timezone.localtime(submitted).isoformat(timespec="minutes"),
                    treatment.isoformat() if treatment else "",
                    outcome or "none",
                    csv_safe(codes),
                    status,
                ]
            )
        AuditEntry.record(
            request.user, AuditAction.EXPORT, count=len(references), references=references
        )
        security_event(request, "export", what="submissions_csv", submissions=len(references))
        return response

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("intake.export_submission")


def _fields(model: type[models.Model]) -> list[str]:
    """A model's own columns, for `only()` beside some of a related row's."""
    return [field.name for field in model._meta.concrete_fields]


def _form_problem(form: Any) -> str:
    """The first problem with a decision form, with the field it concerns, as one sentence."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        return f"{label or name.replace('_', ' ').capitalize()}: {errors[0]}"
    return "Please check the form."


def current_flags(submission: Submission) -> list[Flag]:
    """The flags of the current assessment, from the prefetched rows."""
    for assessment in submission.assessments.all():
        if assessment.is_current:
            return sorted(assessment.flags.all(), key=lambda flag: flag.position)
    return []


# Rows of the answers table (_answers.html) and of a flag's evidence (_flags.html): the
# question as the patient saw it, and the answer in words. They are made here rather than in
# the templates, as the page has dozens of them and the template engine's cost for each row
# was several times that of the row itself. Every value is escaped (html.escape is what
# Django's escape applies), an answer's line breaks kept as the linebreaksbr filter keeps them.


def _answer_row(question: str, answer: str, *, flagged: bool) -> SafeString:
    text = escape(answer)
    if "\n" in text or "\r" in text:
        text = linebreaksbr(answer, autoescape=True)
    if flagged:
        cells = (
            f'<td>{escape(question)}</td><td>{text} <strong class="flag-mark">(flagged)</strong>'
        )
        return mark_safe(f'<tr class="flagged">{cells}</td></tr>')  # noqa: S308
    return mark_safe(f"<tr><td>{escape(question)}</td><td>{text}</td></tr>")  # noqa: S308


def _evidence_row(question: str, answer: str, *, uncertain: bool) -> SafeString:
    text = escape(answer) + (" <em>(uncertain)</em>" if uncertain else "")
    return mark_safe(f"<tr><td>{escape(question)}</td><td>{text}</td></tr>")  # noqa: S308


def review_context(submission: Submission) -> dict[str, Any]:
    """What the submission page and its print view show, built from prefetched rows."""
    definition = submission.version.compiled()
    flags = current_flags(submission)
    flagged_keys = {item["question_key"] for flag in flags for item in flag.evidence}
    flag_rows = []
    for flag in flags:
        evidence = []
        for item in flag.evidence:
            question = definition.questions.get(item["question_key"])
            answer = item["answer"]
            shown = "Not answered" if answer is None else str(answer)
            if question is not None and answer is not None:
                shown = display_answer(question, answer)
            evidence.append(
                _evidence_row(item["question_text"], shown, uncertain=item["uncertain"])
            )
        flag_rows.append(
            {
                "flag": flag,
                # Written into the decision form's ids and fields ten times over.
                "id": str(flag.pk),
                "overridable": flag.tier == Tier.NOT_POSSIBLE,
                "cold_sore": flag.code in COLD_SORE_FLAGS,
                "evidence": evidence,
                "decisions": flag.decisions.all(),
            }
        )
    sections = []
    answers = submission.answers
    for section in definition.sections:
        rows = [
            _answer_row(
                question.text,
                display_answer(question, answers[question.key]),
                flagged=question.key in flagged_keys,
            )
            for question in section.questions
            if question.key in answers
        ]
        if rows:
            sections.append({"title": section.title, "rows": rows})
    assessments = sorted(submission.assessments.all(), key=lambda a: (a.created_at, a.pk))
    history = [
        {
            "assessment": later,
            "changes": flag_changes(list(earlier.flags.all()), list(later.flags.all())),
            # Decisions on the superseded flags stay visible, with the flag they were made on.
            "earlier_decisions": [
                (flag, decision)
                for flag in earlier.flags.all()
                for decision in flag.decisions.all()
            ],
        }
        for earlier, later in itertools.pairwise(assessments)
    ]
    return {
        "submission": submission,
        "version_name": str(submission.version),
        "assessment_history": history[::-1],
        "flag_rows": flag_rows,
        "sections": sections,
        "date_of_birth": display_date(submission.date_of_birth.isoformat()),
        "events": submission.review_events.all(),
        "outcome_label": OUTCOME_LABELS.get(submission.outcome, "No flags"),
        "print_url": reverse("admin:intake_submission_print", args=[submission.pk]),
    }


@admin.register(AuditEntry)
class AuditEntryAdmin(RecordOnly, admin.ModelAdmin[AuditEntry]):
    list_display = ["at", "user", "action", "reference"]
    list_filter = ["action", "user", ("at", admin.DateFieldListFilter)]
    search_fields = ["=reference"]
    list_select_related = ["user"]
    show_full_result_count = False
