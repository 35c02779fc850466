"""The review queue: what it lists, its filters, how it counts, and its rows.

The queue never loads a submission's answers (free-text health data stays off the list), only the
columns it shows. Its rows are made by `QueueRows` rather than by the admin cell by cell: the
admin looks every column up, picks a display function by field type, formats the cell with
`format_html`, and renders each row's selection box as a form widget through three templates,
which for 50 rows was most of the page's time (bench/notes.md). The change link, the selection
box's label and the empty value are prepared once per page, and each row only escapes its own
values. `QueueRows.serves` leaves anything it was not written for (another set of columns, a
popup, an editable list) to the admin's own rendering, and `tests/test_review_admin.py` checks
that both give the same page.
"""

from __future__ import annotations

import datetime
import functools
from html import escape
from typing import Any

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.templatetags.admin_list import ResultList
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Page, Paginator
from django.core.signals import setting_changed
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from intake.models import QuestionSetVersion, ReCheck, ReCheckKind, ReviewStatus, Submission
from intake.models.question_sets import ListedVersion, listed_for
from intake.models.reviews import review_order, waiting_for_decision
from intake.models.submissions import filter_keys
from intake.rules import Tier

# What the queue shows of a submission (SubmissionAdmin.list_display, and the reference its
# selection box is labelled with); nothing else is loaded for it, the answers least of all.
QUEUE_FIELDS = [
    "reference",
    "reference_key",
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


def outcome_label(outcome: str) -> str:
    """A submission's outcome in words: the tier of its most severe flag, or "No flags"."""
    return Tier(outcome).label if outcome in Tier else "No flags"


def flags_in_short(flag_codes: str) -> str:
    """The flag codes the queue shows, separated by commas, or a dash for none; each code may
    wrap after its underscores, so that the column stays narrow ("autoimmune_<wbr>connective_…")."""
    codes = flag_codes.split()
    if not codes:
        return "–"
    return mark_safe(  # noqa: S308 - each code is escaped
        ", ".join(escape(code).replace("_", "_<wbr>") for code in codes)
    )


def outcome_badge(outcome: str) -> str:
    """The outcome as a labelled badge (its colour comes from intake/admin.css)."""
    badge = _BADGES.get(outcome)
    if badge is None:  # a tier no longer on the scale: shown as it is stored
        badge = _badge(outcome)
    return badge


def _badge(outcome: str) -> str:
    return format_html(
        '<span class="outcome outcome-{}">{}</span>', outcome or "none", outcome_label(outcome)
    )


# Each tier's badge, and "No flags": fifty of them on every page of the queue.
_BADGES = {outcome: _badge(outcome) for outcome in [*Tier, ""]}


class OutcomeFilter(admin.SimpleListFilter):
    """Severity: the tier of the most severe flag, or no flags."""

    title = "severity"
    parameter_name = "outcome"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*((tier.value, tier.label) for tier in Tier), ("none", "No flags")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "none":
            return queryset.filter(outcome="")
        if value in Tier:
            return queryset.filter(outcome=value)
        return queryset


class VersionFilter(admin.SimpleListFilter):
    title = "question set version"
    parameter_name = "version"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # The page's one light query for its versions (names, approval, filters).
        return [(str(version.pk), str(version)) for version in listed_for(request)]

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
            queryset = queryset.filter(review_order=review_order(status))
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


class DeclaredFlagFilter(admin.SimpleListFilter):
    """The queue's flag filters, as question sets declare them ("Cold-sore flags"): a submission
    is listed under a filter when one of its current flags was stored with that filter's key."""

    title = "flags"
    parameter_name = "flags"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return declared_filters(listed_for(request))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        key = self.value()
        if not key:
            return queryset
        return queryset.filter(flag_filters__contains=filter_keys([key]))


def declared_filters(versions: list[ListedVersion]) -> list[tuple[str, str]]:
    """Every filter a published or retired version declares, by key, with its latest label."""
    declared: dict[str, str] = {}
    for filters in (version.filters for version in sorted(versions, key=lambda v: v.pk)):
        if isinstance(filters, dict):
            declared.update(
                (key, spec["label"])
                for key, spec in filters.items()
                if isinstance(spec, dict) and isinstance(spec.get("label"), str)
            )
    return sorted(declared.items(), key=lambda item: item[1])


class TreatmentDateFilter(admin.SimpleListFilter):
    """The treatment date, by the clinic's own calendar day (not the server's)."""

    title = "treatment date"
    parameter_name = "treatment"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("today", "Today"),
            ("tomorrow", "Tomorrow"),
            ("next_7_days", "Next 7 days"),
            ("next_30_days", "Next 30 days"),
            ("passed", "Passed"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # By queue_date, which is the treatment date for every booked submission and lies after
        # all of them for the rest: the queue's indexes begin with it.
        today = timezone.localdate()
        value = self.value()
        days = {"today": (0, 0), "tomorrow": (1, 1), "next_7_days": (0, 7), "next_30_days": (0, 30)}
        if value in days:
            first, last = days[value]
            return queryset.filter(
                queue_date__gte=today + datetime.timedelta(days=first),
                queue_date__lte=today + datetime.timedelta(days=last),
            )
        if value in ("passed", "past"):  # "past": what the filter was called before
            return queryset.filter(queue_date__lt=today)
        return queryset


class ReCheckFilter(admin.SimpleListFilter):
    """The re-check before treatment: "Not answered" lists, from 24 hours before the treatment
    day begins (the day before it, clinic time), the patients whose re-check for that date was
    sent and not answered; "No automatic re-check", those whose version asks nothing again."""

    title = "re-check before treatment"
    parameter_name = "recheck"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("not_answered", "Re-check not answered"),
            ("none", "No automatic re-check"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "not_answered":
            today = timezone.localdate()
            unanswered = ReCheck.objects.filter(
                submission=OuterRef("pk"),
                kind=ReCheckKind.BEFORE,
                treatment_date=OuterRef("treatment_date"),
                sent_at__isnull=False,
                answered_at__isnull=True,
            )
            return (
                queryset.filter(
                    queue_date__gte=today, queue_date__lte=today + datetime.timedelta(days=1)
                )
                .exclude(review_status__in=(ReviewStatus.NOT_SUITABLE, ReviewStatus.TREATED))
                .filter(Exists(unanswered))
            )
        if value == "none":
            return queryset.exclude(version__in=rechecking_versions())
        return queryset


def rechecking_versions() -> list[int]:
    """The ids of the versions that ask questions again before treatment."""
    declared = QuestionSetVersion.objects.filter(declarations__has_key="asked_again")
    return [
        version.pk
        for version in declared.only("pk", "declarations")
        if isinstance(version.declarations.get("asked_again"), dict)
        and version.declarations["asked_again"].get("questions")
    ]


def recheck_state(submission: Submission) -> str:
    """What the submission page says of the re-check before treatment, in a few words."""
    if submission.version_id not in rechecking_versions():
        return "No automatic re-check: this question-set version asks nothing again."
    latest = submission.rechecks.filter(
        kind=ReCheckKind.BEFORE, treatment_date=submission.treatment_date
    ).first()
    if latest is None:
        return "Re-check not sent yet."
    if latest.answered_at is not None:
        return f"Re-check answered on {timezone.localtime(latest.answered_at):%-d %B %Y at %H:%M}."
    if latest.sent_at is not None:
        return f"Re-check not answered (sent {timezone.localtime(latest.sent_at):%-d %B %Y})."
    return "Re-check not sent yet."


# The queue's views: what it lists before any other filter. Opened without a choice, it lists
# those that need review; a choice of review status or treatment date, or a search, stands
# instead of that default (as if "All" were chosen), and "All" lists everything.
NEEDS_REVIEW = "needs_review"
WAITING_VIEWS = (NEEDS_REVIEW, "passed")
VIEWS = [
    (NEEDS_REVIEW, "Needs review"),
    ("passed", "Passed, not reviewed"),
    ("decided", "Decided"),
    ("all", "All"),
]
# The filters whose own choice replaces the default view.
_CHOSEN_INSTEAD = (
    "review_status__exact",
    "review_status",
    TreatmentDateFilter.parameter_name,
    ReCheckFilter.parameter_name,
)


def chosen_view(params: Any) -> str:
    """The view a request's query (`request.GET`) asks for, the default included."""
    value = params.get("view")
    if value in dict(VIEWS):
        return str(value)
    if value or any(params.get(name) for name in _CHOSEN_INSTEAD) or params.get("q", "").strip():
        return "all"
    return NEEDS_REVIEW


class ViewFilter(admin.SimpleListFilter):
    """ "Needs review" (the default), "Passed, not reviewed", "Decided" or "All".

    "Needs review": still waiting for a decision (new or in review) with a treatment date today
    or later, then those not booked yet. "Passed": still waiting, with a treatment date gone.
    Both say "waiting" as `waiting_order_idx` does, so that PostgreSQL reads that index.
    """

    title = "view"
    parameter_name = "view"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return VIEWS

    def choices(self, changelist: Any) -> Any:
        # No "All" of the admin's own (no parameter): that is "Needs review" here.
        chosen = chosen_view(changelist.params)
        for value, label in self.lookup_choices:
            yield {
                "selected": value == chosen,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        view = chosen_view(request.GET)
        today = timezone.localdate()
        if view == NEEDS_REVIEW and "view" not in request.GET and _picked(request):
            # An action on rows picked one by one acts on those rows, whatever view they were
            # picked in; "all matching" stays within the view.
            return queryset
        if view == NEEDS_REVIEW:
            return queryset.filter(waiting_for_decision(), queue_date__gte=today)
        if view == "passed":
            return queryset.filter(waiting_for_decision(), queue_date__lt=today)
        if view == "decided":
            return queryset.filter(review_order=review_order(ReviewStatus.CLEARED))
        return queryset


def _picked(request: HttpRequest) -> bool:
    """Whether the request runs an action on rows picked one by one (not "all matching")."""
    return (
        request.method == "POST"
        and bool(request.POST.get("action"))
        and request.POST.get("select_across", "0") == "0"
    )


# The order of the views waiting for a decision (waiting_order_idx), and of every other view
# (queue_order_idx, unreviewed first); both end with the id, so that the order is total.
WAITING_ORDER = ["queue_date", "severity", "submitted_at", "id"]
QUEUE_ORDER = ["review_order", *WAITING_ORDER]


def ordering(params: Any) -> list[str]:
    """The queue's order for a request's query (`request.GET`)."""
    return WAITING_ORDER if chosen_view(params) in WAITING_VIEWS else QUEUE_ORDER


def search(queryset: QuerySet[Any], text: str) -> QuerySet[Any]:
    """Submissions whose reference, patient's name or email begins with `text`.

    A reference matches with or without its dash and in any case ("j8tq746d", "J8TQ-7"); a name
    or an email by its beginning, in any case. Only prefixes, each of them read from an index
    (reference_key_prefix_idx, patient_name_prefix_idx, email_prefix_idx): at a million
    submissions nothing else avoids reading the whole table.
    """
    text = text.strip()
    if not text:
        return queryset
    matches = Q(patient_name__istartswith=text) | Q(email__istartswith=text)
    key = "".join(text.split()).replace("-", "").upper()
    if key.isalnum() and key.isascii() and len(key) <= REFERENCE_LENGTH:
        matches |= Q(reference_key__startswith=key)
    return queryset.filter(matches)


# A reference's letters and digits (K7QM-3XPD without its dash).
REFERENCE_LENGTH = 8


# The queue's columns (SubmissionAdmin.list_display), after the selection box when there is one.
COLUMNS = (
    "patient",
    "reference",
    "submitted_at",
    "treatment_date",
    "outcome_badge",
    "flags_in_short",
    "review_status",
    "reviewer",
)
# Stands for a submission's id in the change link worked out once per page. Ids are UUIDs, which
# the admin's quoting and reverse() leave as they are, so the id simply takes its place.
_ID = "00000000-0000-0000-0000-000000000000"


class QueueRows:
    """The rows of one page of the queue, as the admin's `items_for_result` would render them."""

    @staticmethod
    def serves(cl: ChangeList) -> bool:
        """Whether this page has the queue's own columns and nothing the rows here leave out."""
        columns = list(cl.list_display)
        if columns[:1] == ["action_checkbox"]:
            columns = columns[1:]
        return (
            tuple(columns) == COLUMNS
            and list(cl.list_display_links) == [COLUMNS[0]]
            and not cl.formset
            and not cl.is_popup
            and not cl.to_field
        )

    def __init__(self, cl: ChangeList) -> None:
        admin = cl.model_admin
        self.checkbox = cl.list_display[0] == "action_checkbox"
        self.empty = conditional_escape(admin.get_empty_value_display())
        url = reverse(
            f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
            args=(_ID,),
            current_app=admin.admin_site.name,
        )
        context: dict[str, Any] = {"preserved_filters": cl.preserved_filters, "opts": cl.opts}
        url = add_preserved_filters(context, url)
        before, found, after = escape(url).partition(_ID)
        if not found:  # pragma: no cover - an id always appears in its own change link
            raise ValueError("The change link does not hold the submission's id.")
        self.link_before = f'<th class="field-patient"><a href="{before}'
        self.link_after = f'{after}">'
        self.select_label = gettext("Select this object for an action - {}")
        self.statuses = {
            value: escape(str(label))
            for value, label in Submission._meta.get_field("review_status").flatchoices
        }
        # All that the dates' text depends on besides the dates themselves.
        self.locale = (get_language(), timezone.get_current_timezone())

    def row(self, submission: Submission) -> SafeString:
        """One row's cells, as one string."""
        pk = str(submission.pk)
        empty = self.empty
        cells = []
        if self.checkbox:
            label = self.select_label.format(escape(str(submission)))
            cells.append(
                f'<td class="action-checkbox"><input type="checkbox" name="{ACTION_CHECKBOX_NAME}"'
                f' value="{escape(pk)}" class="action-select" aria-label="{label}"></td>'
            )
        name = submission.patient_name.strip()
        cells.append(
            f"{self.link_before}{pk}{self.link_after}"
            f"{f'<bdi>{escape(name)}</bdi>' if name else empty}</a></th>"
        )
        cells.append(f'<td class="field-reference">{escape(submission.reference)}</td>')
        cells.append(
            f'<td class="field-submitted_at nowrap">{self.date(submission.submitted_at)}</td>'
        )
        treatment = submission.treatment_date
        cells.append(
            '<td class="field-treatment_date nowrap">'
            f"{empty if treatment is None else self.date(treatment)}</td>"
        )
        cells.append(
            '<td class="field-outcome_badge">'
            f"{_shown(outcome_badge(submission.outcome), empty)}</td>"
        )
        cells.append(
            '<td class="field-flags_in_short">'
            f"{_shown(flags_in_short(submission.flag_codes), empty)}</td>"
        )
        status = self.statuses.get(submission.review_status, empty)
        cells.append(f'<td class="field-review_status">{status}</td>')
        reviewer = submission.reviewer
        cells.append(
            '<td class="field-reviewer nowrap">'
            f"{empty if reviewer is None else escape(str(reviewer))}</td>"
        )
        return mark_safe("".join(cells))  # noqa: S308 - every value above is escaped

    def date(self, value: datetime.date) -> str:
        """A date, or a date and time in the current time zone, as the admin shows it."""
        return _date_text(value, *self.locale)

    def __call__(self, results: Any) -> list[ResultList]:
        """The rows for `change_list_results.html`, each one string where it expects cells."""
        return [ResultList(None, [self.row(submission)]) for submission in results]


@functools.lru_cache(maxsize=4096)
def _date_text(value: datetime.date, language: str, zone: datetime.tzinfo) -> str:
    """A date, or a date and time in `zone`, as the admin shows it in `language`, escaped.

    Formatting one costs more than the rest of its row (the month's name and "a.m." or "p.m."
    each go through the translation machinery), and the first pages of the queue show the same
    dates on every view, so each is formatted once per process. Only a date goes in, with the
    language and time zone it is written for (those of the request: the caller passes the
    active ones), and only the text anyone would see for it comes out; settings changing empty
    the cache, as they do Django's own format cache.
    """
    local = timezone.template_localtime(value)  # type: ignore[attr-defined]
    return escape(formats.localize(local))


@receiver(setting_changed)
def _forget_date_texts(**kwargs: Any) -> None:
    _date_text.cache_clear()


def _shown(value: str, empty: str) -> str:
    """A computed column's value as the admin shows it (`display_for_value`), escaped."""
    if not isinstance(value, SafeString):
        value = value.strip()
    if not value:
        return empty
    return value if isinstance(value, SafeString) else escape(value)
