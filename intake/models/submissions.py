"""What patients send: invitations, drafts in progress, and submissions with their flags.

Patients have no accounts. An invitation link or a "continue later" link carries a random token;
only its SHA-256 digest is stored, so the database alone never gives anyone a working link.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connections, models, transaction
from django.db.models.functions import Coalesce, Upper
from django.utils import timezone

from clinic.text import isolated, refuse_bidi_controls
from intake.models.question_sets import TIER_CHOICES, QuestionSet, QuestionSetVersion
from intake.models.reviews import (
    ChangeKind,
    FlagDecision,
    ReviewStatus,
    SubmissionChange,
    review_order_expression,
    waiting_for_decision,
)
from intake.rules import Evaluation, RaisedFlag, Tier


def new_token() -> str:
    """A URL-safe random token of 256 bits."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The stored form of a token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_reference() -> str:
    """A short reference staff and patients can read out, e.g. K7QM-3XPD (no 0/O or 1/I)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    code = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


# Where a submission without a treatment date sorts among dates: after every booked one.
NOT_BOOKED = datetime.date.max


def severity_expression() -> models.Case:
    """`Submission.severity` as the database works it out from the outcome: each tier's rank
    (not possible first), then no flags."""
    return models.Case(
        *(models.When(outcome=tier.value, then=models.Value(tier.severity)) for tier in Tier),
        default=models.Value(len(Tier)),
    )


def reference_key_expression() -> models.Func:
    """`Submission.reference_key`: the reference without its dash (J8TQ746D for J8TQ-746D)."""
    return models.Func(
        models.F("reference"),
        models.Value("-"),
        models.Value(""),
        function="REPLACE",
        output_field=models.CharField(max_length=9),
    )


class PrefixIndex(models.Index):
    """An index on expressions that serves prefix matches (`LIKE 'JAN%'`, as Django's
    `istartswith` compares: upper case). PostgreSQL needs the pattern operator class for that
    unless the database's collation is C; other databases get a plain index."""

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return super().create_sql(model, schema_editor, using, **kwargs)
        index = models.Index(
            *(_pattern_ops(expression) for expression in self.expressions), name=self.name
        )
        return index.create_sql(model, schema_editor, using, **kwargs)


def _pattern_ops(expression: Any) -> models.OrderBy:
    """An index expression with its operator class, written where an order would be: outside
    the expression's parentheses, as PostgreSQL wants it (Django keeps an order there)."""
    ordered = models.OrderBy(expression)
    ordered.template = "%(expression)s text_pattern_ops"
    return ordered


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def by_token(self, token: str) -> Invitation | None:
        return self.filter(token_digest=token_digest(token)).first()


class Invitation(models.Model):
    """A personal link for one patient to one question set, made by clinic staff."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    question_set = models.ForeignKey(QuestionSet, models.PROTECT, related_name="invitations")
    patient_name = models.CharField(max_length=200, validators=[refuse_bidi_controls])
    email = models.EmailField(validators=[refuse_bidi_controls])
    treatment_date = models.DateField(
        null=True, blank=True, help_text="Planned treatment date: the rules are checked against it."
    )
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, editable=False
    )
    expires_at = models.DateTimeField(editable=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {isolated(self.patient_name)}"

    def issue_token(self) -> str:
        """Give the invitation a new link token (the old link stops working) and return it."""
        token = new_token()
        self.token_digest = token_digest(token)
        self.expires_at = timezone.now() + datetime.timedelta(days=settings.INVITATION_DAYS)
        return token

    def is_expired(self, now: datetime.datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.expires_at

    def is_used(self) -> bool:
        return self.submissions.exists()


class DraftQuerySet(models.QuerySet["Draft"]):
    def with_version_hash(self) -> DraftQuerySet:
        """Drafts with their version's content hash only, all `published.questionnaire()` needs.

        The patient's pages load a draft on every request; the version's other columns (its
        large definition above all) would cost more to fetch and build than the whole query.
        """
        fields = [field.name for field in Draft._meta.concrete_fields]
        return self.select_related("version").only(*fields, "version__content_hash")

    def for_patient(self, pk: uuid.UUID, *, lock: bool = False) -> Draft | None:
        """The draft a patient's page works on, as `with_version_hash()` gives it, or None.

        Every patient page loads its draft. Written out, the query costs a fraction of the
        ORM's composing it afresh on each request (bench/notes.md).
        `lock`: lock the draft's row until the transaction ends (where the database can).
        """
        connection = connections[self.db]
        sql = _patient_draft_sql(connection)
        if lock and connection.features.has_select_for_update_of:
            sql += " FOR UPDATE OF d"
        elif lock and connection.features.has_select_for_update:
            sql += " FOR UPDATE"
        found = list(self.raw(sql, [Draft._meta.pk.get_db_prep_value(pk, connection)]))
        if not found:
            return None
        draft = found[0]
        # As `only("version__content_hash")` makes it: the rest of the version loads on access.
        draft.version = QuestionSetVersion.from_db(
            self.db,
            ["id", "content_hash"],
            [draft.version_id, draft.version_hash],  # type: ignore[attr-defined]
        )
        return draft


def _patient_draft_sql(connection: Any) -> str:
    """SELECT every column of a draft, and its version's content hash, by the draft's id."""
    quote = connection.ops.quote_name

    def column(field: Any) -> str:
        return str(quote(field.column))

    draft, version = Draft._meta, QuestionSetVersion._meta
    columns = ", ".join(f"d.{column(field)}" for field in draft.concrete_fields)
    content_hash = column(version.get_field("content_hash"))
    joined = f"v.{column(version.pk)} = d.{column(draft.get_field('version'))}"
    tables = f"{quote(draft.db_table)} d JOIN {quote(version.db_table)} v ON {joined}"
    # Only the models' own names go into the text; the id is a parameter.
    return (
        f"SELECT {columns}, v.{content_hash} AS version_hash "  # noqa: S608
        f"FROM {tables} WHERE d.{column(draft.pk)} = %s"
    )


class Draft(models.Model):
    """A questionnaire in progress, saved on the server after every completed step."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(QuestionSetVersion, models.PROTECT, related_name="drafts")
    invitation = models.ForeignKey(
        Invitation, models.CASCADE, null=True, blank=True, related_name="drafts"
    )
    resume_digest = models.CharField(max_length=64, unique=True, editable=False)
    details = models.JSONField(default=dict, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    treatment_date = models.DateField(null=True, blank=True)
    steps_done = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField()
    submission = models.OneToOneField(
        "Submission", models.SET_NULL, null=True, blank=True, related_name="draft"
    )

    objects = DraftQuerySet.as_manager()

    class Meta:
        indexes = [
            # purge of expired drafts: WHERE expires_at < now
            models.Index(fields=["expires_at"], name="draft_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"Draft {self.id}"

    def record_step(
        self,
        number: int,
        *,
        details: Mapping[str, str],
        answers: Mapping[str, Any],
        treatment_date: datetime.date | None,
        complete: bool = True,
    ) -> bool:
        """Save the progress a step left (intake.patient.steps.take_step works it out); False
        when the draft is no longer there to save to (submitted or forgotten meanwhile).

        An incomplete step (the patient left a page with mistakes) keeps its valid answers but
        does not count as done, so the patient cannot skip past it. Only the progress is
        written: a new "continue later" link issued in another tab meanwhile stays the one that
        works.
        """
        self.details = dict(details)
        self.answers = dict(answers)
        self.treatment_date = treatment_date
        if complete:
            self.steps_done = max(self.steps_done, number)
        self.updated_at = timezone.now()
        # An update rather than a save: a draft forgotten meanwhile (its patient was stopped by
        # an eligibility rule in another tab) is not written back; the caller is told instead.
        return bool(
            Draft.objects.filter(pk=self.pk, submission__isnull=True).update(
                details=self.details,
                answers=self.answers,
                treatment_date=self.treatment_date,
                steps_done=self.steps_done,
                updated_at=self.updated_at,
            )
        )

    def issue_resume_token(self) -> str:
        """A new "continue later" token (the previous link stops working); returns it."""
        token = new_token()
        self.resume_digest = token_digest(token)
        return token

    def replace_resume_link(self) -> str:
        """Save a new "continue later" token and return it. The link it replaces stops working but
        is remembered (its digest only) while the draft lasts, so that it can say it was replaced
        rather than look like a guess."""
        with transaction.atomic():
            # The digest as stored now: another tab may have replaced the one this copy holds.
            current = (
                Draft.objects.select_for_update()
                .filter(pk=self.pk)
                .values_list("resume_digest", flat=True)
                .first()
            )
            token = self.issue_resume_token()
            self.save(update_fields=["resume_digest", "updated_at"])
            if current:
                # Two tabs saving at once may both have read the same one.
                ReplacedResumeLink.objects.bulk_create(
                    [ReplacedResumeLink(draft=self, token_digest=current)], ignore_conflicts=True
                )
        return token

    def is_expired(self, now: datetime.datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.expires_at


class IneligibleAttempt(models.Model):
    """A patient stopped at the details step by a rule the question set checks before any health
    question (under 18, say). All that is kept: the day, the version, the flag code and, for an
    invitation, which one; never a name, a date of birth or an answer. The clinic can see that
    someone tried, and for an invitation, who it sent the link to."""

    on = models.DateField(default=timezone.localdate, editable=False)
    version = models.ForeignKey(QuestionSetVersion, models.PROTECT, related_name="+")
    flag = models.CharField(max_length=80, editable=False)
    invitation = models.ForeignKey(
        Invitation, models.CASCADE, null=True, blank=True, related_name="ineligible_attempts"
    )

    class Meta:
        ordering = ["-on", "-pk"]
        verbose_name = "patient stopped before the questionnaire"
        verbose_name_plural = "patients stopped before the questionnaire"

    def __str__(self) -> str:
        return f"Stopped on {self.on:%-d %B %Y}: {self.flag}"


class ReplacedResumeLink(models.Model):
    """A "continue later" link a newer one replaced: its digest only, never the token, kept as
    long as its draft (deleting the draft deletes it), so that the old link can tell the patient
    a newer one was sent."""

    draft = models.ForeignKey(Draft, models.CASCADE, related_name="replaced_links")
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    replaced_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"Replaced link of {self.draft_id}"


class Submission(models.Model):
    """A completed questionnaire, pinned to the exact published version it answered."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=9, unique=True, default=new_reference, editable=False)
    version = models.ForeignKey(QuestionSetVersion, models.PROTECT, related_name="submissions")
    invitation = models.ForeignKey(
        Invitation, models.PROTECT, null=True, blank=True, related_name="submissions"
    )
    patient_name = models.CharField(max_length=200)
    date_of_birth = models.DateField()
    email = models.EmailField()
    phone = models.CharField(max_length=32)
    answers = models.JSONField(help_text="Answers to the questions shown to this patient.")
    submitted_at = models.DateTimeField(default=timezone.now)
    treatment_date = models.DateField(null=True, blank=True)
    consent_name = models.CharField(max_length=200, help_text="Full name typed as a signature.")
    consented_at = models.DateTimeField()
    # The current assessment's outcome and flag codes (space-separated), for the review queue;
    # written only by record_assessment.
    outcome = models.CharField(max_length=20, choices=TIER_CHOICES, blank=True)
    flag_codes = models.CharField(max_length=1000, blank=True)
    # The queue filters its flags belong to, as their version declares: " cold_sores " (each
    # key between spaces, so that a filter matches a whole key).
    flag_filters = models.CharField(max_length=1000, blank=True)
    review_status = models.CharField(
        max_length=30, choices=ReviewStatus.choices, default=ReviewStatus.NEW
    )
    # Where the queue lists a submission, worked out by the database from the review status:
    # 0 new, 1 in review, 2 decided, so that unreviewed submissions come first.
    review_order = models.GeneratedField(
        expression=review_order_expression(),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    # How serious the outcome is, worked out by the database: 0 not possible, 1 need to know,
    # 2 manageable, 3 no flags; the queue orders by it after the treatment date.
    severity = models.GeneratedField(
        expression=severity_expression(),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )
    # The date the queue orders and filters by: the treatment date, or NOT_BOOKED (after every
    # booked date) for a submission not yet booked, so that "today or later, then not booked"
    # is one range of an index.
    queue_date = models.GeneratedField(
        expression=Coalesce(
            models.F("treatment_date"), models.Value(NOT_BOOKED, models.DateField())
        ),
        output_field=models.DateField(),
        db_persist=True,
    )
    # The reference as search compares it (without its dash), with an index for prefixes.
    reference_key = models.GeneratedField(
        expression=reference_key_expression(),
        output_field=models.CharField(max_length=9),
        db_persist=True,
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    rebook_after = models.DateField(null=True, blank=True)
    # Signed and locked: a clearing decision was signed (the latest `Signature`), and nothing
    # changes until someone reopens it with a reason or a re-evaluation changes its flags.
    locked = models.BooleanField(default=False)
    # Bumped by every decision, so that a second practitioner's stale form is refused.
    revision = models.PositiveIntegerField(default=0)

    class Meta:
        # Unbooked treatments after booked ones, the most severe first.
        ordering = ["review_order", "queue_date", "severity", "submitted_at"]
        permissions = [
            ("review_submission", "Can record reviews and flag decisions"),
            ("override_not_possible", "Can override a not-possible flag (medical lead)"),
            ("export_submission", "Can export submissions"),
        ]
        indexes = [
            # The review queue's order (SubmissionAdmin.get_ordering) for every view but those
            # waiting for a decision: unreviewed first, then soonest treatment (not booked last),
            # the most severe first, the id last so that the order is total and the admin adds
            # no "-pk" the index could not serve.
            models.Index(
                fields=["review_order", "queue_date", "severity", "submitted_at", "id"],
                name="queue_order_idx",
            ),
            # "Needs review" and "Passed": only the submissions waiting for a decision, new and
            # in review together, by treatment date, then severity.
            models.Index(
                fields=["queue_date", "severity", "submitted_at", "id"],
                condition=waiting_for_decision(),
                name="waiting_order_idx",
            ),
            # Search by prefix (LIKE 'J8TQ7%'): pattern operator classes, so that PostgreSQL
            # uses them whatever the database's collation; the name and email as Django's
            # case-insensitive lookups compare them (UPPER).
            models.Index(
                fields=["reference_key"],
                opclasses=["varchar_pattern_ops"],
                name="reference_key_prefix_idx",
            ),
            PrefixIndex(Upper("patient_name"), name="patient_name_prefix_idx"),
            PrefixIndex(Upper("email"), name="email_prefix_idx"),
        ]

    def __str__(self) -> str:
        return f"Submission {self.reference}"

    @property
    def submitted_on(self) -> datetime.date:
        return timezone.localdate(self.submitted_at)

    @property
    def reference_date(self) -> datetime.date:
        """The date the rules are checked against: treatment date, or the submission date."""
        return self.treatment_date or self.submitted_on

    def current_flags(self) -> models.QuerySet[Flag]:
        return Flag.objects.filter(assessment__submission=self, assessment__is_current=True)

    def corrected_answers(
        self, changes: Iterable[SubmissionChange] | None = None
    ) -> dict[str, Any]:
        """The answers as the patient gave them, with practitioners' corrections applied in order.

        `changes`: the submission's history if already loaded (any order, any kinds); otherwise
        its corrections are read here. `answers` itself is never changed.
        """
        if changes is None:
            changes = self.changes.filter(kind=ChangeKind.ANSWER)
        answers = dict(self.answers)
        for change in sorted(changes, key=lambda c: (c.at, c.pk)):
            if change.kind == ChangeKind.ANSWER:
                answers[change.subject] = change.new
        return answers

    def accepted_antiviral_plan(self) -> dict[str, Any] | None:
        """The antiviral plan recorded on a current flag, if the patient accepted it (the latest
        decision's); None otherwise. The re-checks before treatment then ask whether the tablets
        are started."""
        decision = (
            FlagDecision.objects.filter(
                flag__assessment__submission=self,
                flag__assessment__is_current=True,
                antiviral_plan__isnull=False,
            )
            .order_by("-at", "-pk")
            .first()
        )
        plan = decision.antiviral_plan if decision else None
        if not plan or plan.get("accepted") is not True:
            return None
        return dict(plan)

    def record_assessment(
        self,
        evaluation: Evaluation,
        *,
        reference_date: datetime.date,
        at: datetime.datetime | None = None,
        by: Any = None,
        reason: str = "",
        cause: str = "",
    ) -> Assessment:
        """Store the rules' result as the current assessment; any earlier one becomes history.

        The submission's outcome and flag codes follow the new assessment. A submission not yet
        saved is stored here, with them, as the first assessment's.
        """
        self.outcome, self.flag_codes, self.flag_filters = queue_summary(evaluation.flags)
        if self._state.adding:
            self.save()
        else:
            self.assessments.filter(is_current=True).update(is_current=False)
            Submission.objects.filter(pk=self.pk).update(
                outcome=self.outcome, flag_codes=self.flag_codes, flag_filters=self.flag_filters
            )
        assessment = Assessment.objects.create(
            submission=self,
            reference_date=reference_date,
            outcome=self.outcome,
            created_at=at or timezone.now(),
            by=by,
            reason=reason,
            cause=cause,
        )
        Flag.objects.bulk_create(
            Flag.from_engine(assessment, position, flag)
            for position, flag in enumerate(evaluation.flags)
        )
        return assessment


class QueueSummary(NamedTuple):
    """What the queue shows and filters on, worked out from an assessment's flags."""

    outcome: str
    flag_codes: str
    flag_filters: str


def queue_summary(flags: Sequence[RaisedFlag]) -> QueueSummary:
    """The outcome, the space-separated flag codes and the filters (each between spaces)."""
    filters = sorted({key for flag in flags for key in flag.declarations.get("filters", ())})
    return QueueSummary(
        outcome=flags[0].tier.value if flags else "",
        flag_codes=" ".join(flag.code for flag in flags),
        flag_filters=filter_keys(filters),
    )


def filter_keys(keys: Sequence[str]) -> str:
    """Filter keys as `Submission.flag_filters` holds them: " a b " (empty for none)."""
    return f" {' '.join(keys)} " if keys else ""


class Assessment(models.Model):
    """One run of the rules for a submission; a date change adds a new one and keeps the old."""

    submission = models.ForeignKey(Submission, models.CASCADE, related_name="assessments")
    reference_date = models.DateField()
    outcome = models.CharField(max_length=20, choices=TIER_CHOICES, blank=True)
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Empty for the assessment made at submission; set when staff change the treatment date.
    reason = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What made staff check the rules again: a treatment date or an answer (a ChangeKind); empty
    # for the assessment made at submission, and for date changes recorded before it was kept.
    cause = models.CharField(max_length=20, blank=True, choices=ChangeKind.choices)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission"],
                condition=models.Q(is_current=True),
                name="one_current_assessment",
            ),
        ]

    def __str__(self) -> str:
        return f"Assessment of {self.submission} on {self.reference_date}"


class Flag(models.Model):
    """A flag raised by the rules, stored with its messages and evidence as the patient answered."""

    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="flags")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=80)
    tier = models.CharField(max_length=20, choices=TIER_CHOICES)
    provisional = models.BooleanField(default=False)
    temporary = models.BooleanField(default=False)
    rule_id = models.CharField(max_length=80)
    practitioner_message = models.TextField()
    patient_guidance = models.TextField(blank=True)
    sources = models.JSONField(default=list)
    evidence = models.JSONField(default=list)
    # What its version declares about the flag, kept with it: {"plan": "antiviral",
    # "plan_answers": [question keys], "filters": [queue filter keys]} (intake.rules.Declarations).
    declarations = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["assessment", "position"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "code"], name="one_flag_per_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_tier_display()})"

    @classmethod
    def from_engine(cls, assessment: Assessment, position: int, flag: RaisedFlag) -> Flag:
        """A row for one flag of `intake.rules.evaluate`'s result."""
        data = flag.as_dict()
        return cls(
            assessment=assessment,
            position=position,
            code=data["code"],
            tier=data["tier"],
            provisional=data["provisional"],
            temporary=data["temporary"],
            rule_id=data["rule_id"],
            practitioner_message=data["practitioner_message"],
            patient_guidance=data["patient_guidance"],
            sources=data["sources"],
            evidence=data["evidence"],
            declarations=data["declarations"],
        )

    @property
    def plan(self) -> str:
        """The kind of plan to record before the submission is cleared ("" for none)."""
        return str(self.declarations.get("plan", ""))


class ReCheckKind(models.TextChoices):
    BEFORE = "before", "Re-check before treatment"
    ON_THE_DAY = "on_the_day", "On-the-day check"


class ReCheckQuerySet(models.QuerySet["ReCheck"]):
    def by_token(self, token: str) -> ReCheck | None:
        return self.filter(link_digest=token_digest(token)).select_related("submission").first()


class ReCheck(models.Model):
    """The questions asked again shortly before treatment: by the patient, from a link sent
    `RECHECK_DAYS_BEFORE` days before (kind "before"), or by a practitioner with the patient
    present (kind "on_the_day"). Its answers are kept here, never over the first ones; the rules
    run again with them in place of the re-asked questions' answers.

    The link works like the continue-later link: single use, expiring, only its digest stored.
    A "before" re-check is made once per treatment date (the constraint keeps a second run of
    the sender from making another); a new date gets a new one.
    """

    submission = models.ForeignKey(Submission, models.CASCADE, related_name="rechecks")
    kind = models.CharField(max_length=20, choices=ReCheckKind.choices)
    # The treatment date it was made for.
    treatment_date = models.DateField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    link_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # In the engine's answer format, the re-asked questions' (and their follow-ups') answers,
    # and `ANTIVIRAL_STARTED` where the submission has an antiviral plan.
    answers = models.JSONField(default=dict, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What the on-the-day check records beside the answers: the time of the first antiviral dose
    # ("first_dose_at"), who inspected the lips and face ("inspected_by") and when
    # ("inspected_at").
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    # Keys of `extra`: whether the patient has started the antiviral tablets ("yes"/"no"),
    # asked only where an accepted antiviral plan is recorded; on the day, the time of the first
    # dose, and who inspected the lips and face, and when.
    ANTIVIRAL_STARTED = "antiviral_started"
    FIRST_DOSE_AT = "first_dose_at"
    INSPECTED_BY = "inspected_by"
    INSPECTED_AT = "inspected_at"

    objects = ReCheckQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "treatment_date"],
                condition=models.Q(kind="before"),
                name="one_recheck_per_treatment_date",
            ),
        ]
        indexes = [
            # The sender's look for re-checks made but not yet sent.
            models.Index(
                fields=["due_at"], condition=models.Q(sent_at__isnull=True), name="recheck_due_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.submission}"

    def issue_token(self, now: datetime.datetime, expires_at: datetime.datetime) -> str:
        """A new link token for the patient (only its digest is kept); returns it."""
        token = new_token()
        self.link_digest = token_digest(token)
        self.expires_at = expires_at
        return token

    def is_expired(self, now: datetime.datetime | None = None) -> bool:
        return self.expires_at is not None and (now or timezone.now()) >= self.expires_at
