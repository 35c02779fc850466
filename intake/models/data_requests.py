"""Patients' data protection requests: a copy of their data (subject access), or its erasure.

A request is recorded by a clinic admin with the patient's email address or a submission
reference; the records it covers are everything held under that email address. Erasure is a
decision, not a button: the clinic either erases, or retains the records as a clinical record and
writes down the legal basis. Both are audited.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from clinic.text import refuse_bidi_controls
from intake.models.reviews import AuditAction, AuditEntry
from intake.models.submissions import Draft, Invitation, Submission


class DataRequestKind(models.TextChoices):
    ACCESS = "access", "Subject access (a copy of their data)"
    ERASURE = "erasure", "Erasure (deletion of their data)"


class ErasureDecision(models.TextChoices):
    ERASE = "erase", "Erase the patient's records"
    RETAIN = "retain", "Retain them as a clinical record"


@dataclasses.dataclass(frozen=True)
class PatientRecords:
    """Everything held about one patient, found by their email address."""

    email: str
    invitations: QuerySet[Invitation]
    drafts: QuerySet[Draft]
    submissions: QuerySet[Submission]

    @classmethod
    def for_email(cls, email: str, *, person: Submission | None = None) -> PatientRecords:
        """Everything under an email address; with `person`, only what has that person's name.

        Families often share one email address: a request made with one submission's reference
        covers that person's records, not their relatives'.
        """
        invitations = Invitation.objects.filter(email__iexact=email)
        if person is not None:
            invitations = invitations.filter(patient_name__iexact=person.patient_name)
        records = cls(
            email=email,
            invitations=invitations.order_by("created_at"),
            drafts=Draft.objects.filter(
                Q(details__email__iexact=email) | Q(invitation__in=invitations)
            ).order_by("created_at"),
            # A submission from the patient's invitation is theirs even if they gave another
            # email address on the form.
            submissions=Submission.objects.filter(
                Q(email__iexact=email) | Q(invitation__in=invitations)
            ).order_by("submitted_at"),
        )
        if person is None:
            return records
        return dataclasses.replace(
            records,
            drafts=records.drafts.filter(
                Q(details__full_name__iexact=person.patient_name) | Q(invitation__in=invitations)
            ),
            submissions=records.submissions.filter(
                patient_name__iexact=person.patient_name, date_of_birth=person.date_of_birth
            ),
        )

    def people(self) -> list[str]:
        """The different people these records name, as "name (date of birth)"."""
        found = {
            (name.casefold(), f"{name} ({born:%d/%m/%Y})")
            for name, born in self.submissions.values_list("patient_name", "date_of_birth")
        }
        named = {key for key, _ in found}
        found |= {
            (name.casefold(), name)
            for name in self.invitations.values_list("patient_name", flat=True)
            if name.casefold() not in named
        }
        by_name: dict[str, set[str]] = {}
        for key, label in found:
            by_name.setdefault(key, set()).add(label)
        return sorted(label for labels in by_name.values() for label in labels)

    def counts(self) -> dict[str, int]:
        return {
            "invitations": self.invitations.count(),
            "drafts": self.drafts.count(),
            "submissions": self.submissions.count(),
        }


class DataRequest(models.Model):
    """A patient's request for a copy of their data or for its erasure."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=DataRequestKind.choices)
    email = models.EmailField(
        validators=[refuse_bidi_controls],
        blank=True,
        help_text="The patient's email address, as given on their questionnaire or invitation.",
    )
    reference = models.CharField(
        max_length=9,
        blank=True,
        help_text="Or a submission reference (e.g. K7QM-3XPD): its email address is used.",
    )
    received_on = models.DateField(
        default=timezone.localdate,
        help_text="The day the clinic received the request; the one-month time limit runs "
        "from here.",
    )
    notes = models.TextField(
        blank=True,
        help_text="How the request arrived and how the patient's identity was checked. "
        "No health details.",
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    decision = models.CharField(max_length=10, choices=ErasureDecision.choices, blank=True)
    legal_basis = models.TextField(
        blank=True,
        help_text="When retaining: why the records must be kept (for example, the clinical "
        "record of a treatment given, kept for the clinic's retention period).",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # What an erasure removed, as counts (the records themselves are gone).
    erased = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-received_on", "-recorded_at"]
        permissions = [("erase_patient_data", "Can erase a patient's data")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} received {self.received_on:%d %b %Y}"

    def records(self) -> PatientRecords:
        """What the request covers: all under the email, or the referenced person's records."""
        if self.email:
            return PatientRecords.for_email(self.email)
        submission = Submission.objects.filter(reference=self.reference.upper()).first()
        if submission is None:
            return PatientRecords(
                email="",
                invitations=Invitation.objects.none(),
                drafts=Draft.objects.none(),
                submissions=Submission.objects.none(),
            )
        return PatientRecords.for_email(submission.email, person=submission)

    @property
    def is_decided(self) -> bool:
        # Set only by decide(): a form that failed validation may have put a decision on the
        # instance without it being made.
        return self.decided_at is not None

    def decide(self, decision: str, *, by: Any, legal_basis: str = "") -> None:
        """Record the clinic's decision on an erasure request, and erase if so decided."""
        now = timezone.now()
        with transaction.atomic():
            # Locked, so two admins deciding at once cannot both act on the request.
            current = DataRequest.objects.select_for_update().get(pk=self.pk)
            if current.kind != DataRequestKind.ERASURE or current.is_decided:
                raise ValueError("Only an undecided erasure request can be decided.")
            records = self.records()
            if decision == ErasureDecision.ERASE:
                self.erased = erase(records, by=by, at=now)
            self.decision = decision
            self.legal_basis = legal_basis
            self.decided_by = by
            self.decided_at = now
            self.save()
            AuditEntry.record(
                by,
                AuditAction.ERASURE
                if decision == ErasureDecision.ERASE
                else AuditAction.DATA_REQUEST,
                at=now,
                data_request=str(self.pk),
                decision=decision,
                **self.erased,
            )


def forget_admin_history(model: type[models.Model], pks: list[Any]) -> None:
    """Delete the admin's own history lines about deleted records: they repeat patients' names
    ("Invitation for Ann Example"), and the audit log already says what happened."""
    content_type = ContentType.objects.get_for_model(model)
    LogEntry.objects.filter(
        content_type=content_type, object_id__in=[str(pk) for pk in pks]
    ).delete()


def erase(records: PatientRecords, *, by: Any, at: Any) -> dict[str, int]:
    """Delete a patient's submissions, drafts and invitations; return how many of each."""
    submissions = list(records.submissions.values_list("pk", "reference"))
    for _pk, reference in submissions:
        # One entry per submission, so its access history shows when and by whom it was erased.
        AuditEntry.objects.create(
            at=at, user=by, action=AuditAction.ERASURE, reference=reference, detail={}
        )
    ids = [pk for pk, _ in submissions]
    draft_ids = list(records.drafts.values_list("pk", flat=True))
    invitation_ids = list(records.invitations.values_list("pk", flat=True))
    _, drafts = Draft.objects.filter(Q(pk__in=draft_ids) | Q(submission__in=ids)).delete()
    Submission.objects.filter(pk__in=ids).delete()
    _, invitations = Invitation.objects.filter(pk__in=invitation_ids).delete()
    forget_admin_history(Invitation, invitation_ids)
    forget_admin_history(Submission, ids)
    return {
        "submissions": len(ids),
        "drafts": drafts.get("intake.Draft", 0),
        "invitations": invitations.get("intake.Invitation", 0),
    }
