"""Invitations: staff create a personal questionnaire link for a patient."""

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from clinic import mail
from clinic.contact import clinic_contact
from clinic.text import isolated
from intake.models import IneligibleAttempt, Invitation, Submission


def _invitation_link(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("intake:invitation", args=[token]))


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = ["name", "email", "treatment_date", "created_at", "expires_at", "state"]
    list_filter = ["question_set"]
    search_fields = ["patient_name", "email"]
    fields = ("question_set", "patient_name", "email", "treatment_date")
    actions = ["email_new_link"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Invitation]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                used=Exists(Submission.objects.filter(invitation=OuterRef("pk"))),
                stopped=Exists(IneligibleAttempt.objects.filter(invitation=OuterRef("pk"))),
            )
        )

    @admin.display(description="Patient name", ordering="patient_name")
    def name(self, invitation: Invitation) -> str:
        return format_html("<bdi>{}</bdi>", invitation.patient_name)

    @admin.display(description="State")
    def state(self, invitation: Invitation) -> str:
        if getattr(invitation, "used", False):
            return "Answers sent"
        if getattr(invitation, "stopped", False):
            # Told at the details step that the treatment is not for them (under 18, say).
            return "Not eligible"
        return "Expired" if invitation.is_expired() else "Open"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # The link and the patient are fixed once sent; a new link comes from the action.
        return ("question_set", "patient_name", "email", "treatment_date") if obj else ()

    def save_model(self, request: HttpRequest, obj: Invitation, form: Any, change: bool) -> None:
        token = None
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
            token = obj.issue_token()
        super().save_model(request, obj, form, change)
        if token is not None:
            messages.success(
                request,
                format_html(
                    "Invitation link for {} (shown only now — copy it or use "
                    '“Email a new link”): <a href="{}">{}</a>',
                    obj.patient_name,
                    _invitation_link(request, token),
                    _invitation_link(request, token),
                ),
            )

    @admin.action(description="Email a new link to the selected patients", permissions=["change"])
    def email_new_link(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        if not mail.sends():
            # A new link replaces the old one: made but never sent, the patient would have none.
            messages.error(
                request,
                "This server has no email configured (EMAIL_BACKEND), so no new links were made: "
                "the patients' current links still work.",
            )
            return
        sent = 0
        for invitation in queryset.select_related("question_set"):
            if getattr(invitation, "used", False):
                continue
            token = invitation.issue_token()
            invitation.save(update_fields=["token_digest", "expires_at"])
            sent += mail.send(
                "invitation",
                f"Your questionnaire before your consultation – {settings.CLINIC_NAME}",
                (
                    f"Dear {isolated(invitation.patient_name)},\n\n"
                    "Before your consultation, please answer a few questions about your health "
                    "and your skin. It takes about 10 minutes:\n\n"
                    f"{_invitation_link(request, token)}\n\n"
                    f"The link works until {timezone.localtime(invitation.expires_at):%-d %B %Y}."
                    f"\n\n{clinic_contact().as_text()}"
                ),
                [invitation.email],
            )
        messages.success(request, f"Sent {sent} invitation email(s); earlier links stop working.")


@admin.register(IneligibleAttempt)
class IneligibleAttemptAdmin(admin.ModelAdmin[IneligibleAttempt]):
    """Patients stopped at the details step: the day, the reason's flag code and the invitation;
    nothing else of theirs is kept. A record of what happened, never edited."""

    list_display = ["on", "flag", "version", "invitation"]
    list_filter = ["flag", "on"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
