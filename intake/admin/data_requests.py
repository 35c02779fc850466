"""Patients' data requests: subject access exports and erasure decisions, for clinic admins."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from clinic.logs import security_event
from clinic.text import isolated
from intake.models import (
    AuditAction,
    AuditEntry,
    DataRequest,
    DataRequestKind,
    ErasureDecision,
    Submission,
)
from intake.records.subject_access import patient_data


class DataRequestForm(forms.ModelForm[DataRequest]):
    class Meta:
        model = DataRequest
        fields = ["kind", "email", "reference", "received_on", "notes", "decision", "legal_basis"]

    def clean_reference(self) -> str:
        reference = str(self.cleaned_data.get("reference", "")).strip().upper()
        if reference and not Submission.objects.filter(reference=reference).exists():
            raise ValidationError(
                "No submission has this reference. Check it against the patient's confirmation.",
                code="unknown_reference",
            )
        return reference

    def clean_received_on(self) -> Any:
        received_on = self.cleaned_data["received_on"]
        if received_on and received_on > timezone.localdate():
            raise ValidationError(
                "The request cannot have been received in the future.", code="future_date"
            )
        return received_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            "email" in self.fields
            and not data.get("email")
            and not data.get("reference")
            and "email" not in self.errors
            and "reference" not in self.errors
        ):
            raise ValidationError(
                "Give the patient's email address or a submission reference.", code="no_patient"
            )
        if data.get("decision") == ErasureDecision.RETAIN and not data.get("legal_basis"):
            self.add_error(
                "legal_basis",
                ValidationError(
                    "Say why the records are kept when the clinic retains them.",
                    code="no_legal_basis",
                ),
            )
        if data.get("decision") == ErasureDecision.ERASE and self.instance.pk:
            people = self.instance.records().people()
            if len(people) > 1:
                self.add_error(
                    "decision",
                    ValidationError(
                        "These records name more than one person (%(people)s), so erasing them "
                        "would remove someone else's too. Record a separate request for the "
                        "person asking, with the reference of one of their submissions.",
                        code="several_people",
                        params={"people": "; ".join(isolated(person) for person in people)},
                    ),
                )
        return data


@admin.register(DataRequest)
class DataRequestAdmin(admin.ModelAdmin[DataRequest]):
    form = DataRequestForm
    list_display = ["received_on", "kind", "patient", "state", "recorded_by"]
    list_filter = ["kind", "decision"]
    search_fields = ["=email", "=reference"]
    list_select_related = ["recorded_by"]
    date_hierarchy = "received_on"

    @admin.display(description="Patient")
    def patient(self, data_request: DataRequest) -> str:
        return data_request.email or data_request.reference

    @admin.display(description="State")
    def state(self, data_request: DataRequest) -> str:
        if data_request.kind == DataRequestKind.ACCESS:
            return "Copy available"
        if data_request.is_decided:
            return data_request.get_decision_display()
        return "Awaiting decision"

    @admin.display(description="Records held")
    def records_held(self, data_request: DataRequest) -> str:
        records = data_request.records()
        if not records.email:
            return "No records match this request."
        counts = records.counts()
        references = format_html_join(
            ", ", "{}", ((s.reference,) for s in records.submissions.only("reference"))
        )
        return format_html(
            "{} submission(s) ({}), {} unfinished questionnaire(s), {} invitation(s), "
            "held under <bdi>{}</bdi>, naming: {}",
            counts["submissions"],
            references or "none",
            counts["drafts"],
            counts["invitations"],
            records.email,
            format_html_join("; ", "<bdi>{}</bdi>", ((p,) for p in records.people())) or "no one",
        )

    @admin.display(description="Patient's copy")
    def export_links(self, data_request: DataRequest) -> str:
        return format_html(
            '<a class="button" href="{}">Readable copy (HTML)</a> '
            '<a class="button" href="{}">Download (JSON)</a>',
            reverse("admin:intake_datarequest_export", args=[data_request.pk, "html"]),
            reverse("admin:intake_datarequest_export", args=[data_request.pk, "json"]),
        )

    def get_fields(  # type: ignore[override]
        self, request: HttpRequest, obj: DataRequest | None = None
    ) -> list[str]:
        if obj is None:
            return ["kind", "email", "reference", "received_on", "notes"]
        fields = ["kind", "email", "reference", "received_on", "notes", "recorded_by"]
        fields.append("records_held" if not obj.is_decided else "erased")
        if obj.kind == DataRequestKind.ACCESS:
            return [*fields, "export_links"]
        return [*fields, "decision", "legal_basis", "decided_by", "decided_at"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: DataRequest | None = None
    ) -> list[str]:
        if obj is None:
            return []
        readonly = [
            "kind",
            "email",
            "reference",
            "received_on",
            "notes",
            "recorded_by",
            "records_held",
            "export_links",
            "erased",
            "decided_by",
            "decided_at",
        ]
        if obj.is_decided or obj.kind == DataRequestKind.ACCESS:
            readonly += ["decision", "legal_basis"]
        return readonly

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The record of a request and its decision is what shows the clinic complied.
        return False

    def save_model(self, request: HttpRequest, obj: DataRequest, form: Any, change: bool) -> None:
        if not change:
            obj.recorded_by = request.user  # type: ignore[assignment]
            obj.save()
            AuditEntry.record(
                request.user, AuditAction.DATA_REQUEST, data_request=str(obj.pk), kind=obj.kind
            )
            return
        decision = form.cleaned_data.get("decision")
        if (
            obj.kind != DataRequestKind.ERASURE
            or not decision
            or "decision" not in form.changed_data
        ):
            return
        if decision == ErasureDecision.ERASE and not request.user.has_perm(
            "intake.erase_patient_data"
        ):
            raise PermissionDenied
        stored = DataRequest.objects.get(pk=obj.pk)
        try:
            stored.decide(decision, by=request.user, legal_basis=form.cleaned_data["legal_basis"])
        except ValueError:
            messages.error(request, "Someone else decided this request in the meantime.")
            obj.refresh_from_db()
            return
        if decision == ErasureDecision.ERASE:
            messages.success(request, f"Erased: {stored.erased}.")
        obj.refresh_from_db()

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "<uuid:object_id>/export.<str:kind>",
                view(self.export_view),
                name="intake_datarequest_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest, object_id: str, kind: str) -> HttpResponse:
        data_request = DataRequest.objects.filter(pk=object_id).first()
        if (
            data_request is None
            or data_request.kind != DataRequestKind.ACCESS
            or kind not in {"json", "html"}
        ):
            raise Http404
        if not self.has_view_permission(request, data_request):
            raise PermissionDenied
        now = timezone.now()
        records = data_request.records()
        data = patient_data(records, exported_at=now)
        submissions: list[Submission | None] = list(records.submissions.only("pk", "reference"))
        for submission in submissions or [None]:
            AuditEntry.record(
                request.user,
                AuditAction.ACCESS_EXPORT,
                submission,
                at=now,
                data_request=str(data_request.pk),
                format=kind,
            )
        security_event(
            request, "export", what="subject_access", format=kind, submissions=len(submissions)
        )
        if kind == "html":
            return render(request, "admin/intake/datarequest/export.html", {"data": data})
        response = HttpResponse(
            json.dumps(data, indent=2, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="patient-data-{now:%Y%m%d}-{str(data_request.pk)[:8]}.json"'
        )
        return response
