"""Question-set authoring in the admin: versions, draft editing, test cases, publishing, exports.

A draft is edited as rows (parameters, sections, questions, rules; choices on each question's own
page). Every save runs the publishing checks on the whole draft as the save would leave it
(intake/authoring/drafts.py): a condition naming an unknown question, choice or parameter refuses
the save and says which rule or question is wrong, while what is merely unfinished (a choice
question with no choices yet) is saved and listed as still to do.
Published and retired versions are read-only; "New draft from this version" copies one, all but
its label and release notes, which the new version writes for itself.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelChoiceField, ModelForm
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from intake import published
from intake.authoring.changes import compare_cases, compare_documents, publishing_impact
from intake.authoring.forms import (
    ApprovalForm,
    ChoiceRows,
    DraftRows,
    ImportForm,
    ParameterRows,
    QuestionForm,
    QuestionRowForm,
    QuestionRows,
    RuleForm,
    RuleRows,
    SectionRows,
    VersionForm,
)
from intake.authoring.preview import preview_step
from intake.authoring.replay import Replay, replay
from intake.models import (
    ApprovalRefused,
    ApprovalState,
    Choice,
    FrozenVersionError,
    Parameter,
    PublishError,
    Question,
    QuestionSet,
    QuestionSetVersion,
    Rule,
    Section,
    VersionStatus,
    import_document,
)
from intake.models.question_sets import case_failure
from intake.records import fhir
from intake.records.data_dictionary import data_dictionary_csv
from intake.rules import (
    LISTED_CHOICE_TYPES,
    DefinitionError,
    Problem,
    condition_text,
    load_definition,
)


class ChecksWholeDraft:
    """Admin mixin for a draft's pages, whose forms check the draft as the save would leave it.

    The page's row formsets share one list, so that the last of them can check the whole draft
    (intake.authoring.forms.DraftRows); its mistakes head the page as well as their rows, and
    what is merely unfinished is listed once the save is done.
    """

    def get_formsets_with_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        page: list[DraftRows] = []
        for formset, inline in super().get_formsets_with_inlines(request, obj):  # type: ignore[misc]
            yield type(formset.__name__, (formset,), {"page": page}), inline

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        form = context["adminform"].form
        formsets = [inline.formset for inline in context.get("inline_admin_formsets", ())]
        for message, anchor in _error_summary(form, formsets):
            link = format_html('<a href="#{}">{}</a>', anchor, message) if anchor else message
            form.add_error(None, link)
        response: HttpResponse = super().render_change_form(  # type: ignore[misc]
            request, context, add, change, form_url, obj
        )
        if request.method == "POST":
            # The admin shows a refused form again with 200; it is a refused request.
            response.status_code = 400
        return response

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        _edited(request, form.instance)
        checks = [getattr(part, "draft_check", None) for part in [form, *formsets]]
        unfinished = [p for check in checks if check is not None for p in check.unfinished]
        if unfinished:
            messages.warning(
                request,
                "Saved. Still to do before publishing: "
                + " ".join(problem.message for problem in unfinished),
            )


def _error_summary(form: Any, formsets: list[Any]) -> list[tuple[str, str]]:
    """Every error on a draft's page, each with the id of what it is about, for the summary at
    the top of the page (the GOV.UK error summary): the page's own fields, each row's fields,
    each row as a whole, and what the whole-draft check found that belongs to no row."""
    entries: list[tuple[str, str]] = []
    for name, errors in list(form.errors.items()):
        if name != NON_FIELD_ERRORS:
            entries += [(f"{form[name].label}: {error}", form[name].auto_id) for error in errors]
    placed: set[str] = set()
    for formset in formsets:
        noun = str(formset.model._meta.verbose_name)
        for index, row in enumerate(formset.forms):
            for name, errors in row.errors.items():
                if name == NON_FIELD_ERRORS:  # the whole-draft check's, naming their row
                    placed.update(errors)
                    entries += [(str(error), f"{formset.prefix}-{index}") for error in errors]
                    continue
                field = row[name]
                what = f"{noun.capitalize()} {index + 1}, {str(field.label).lower()}"
                entries += [(f"{what}: {error}", field.auto_id) for error in errors]
        check = getattr(formset, "draft_check", None)
        for problem in check.mistakes if check is not None else ():
            if problem.message not in placed:
                entries.append((problem.message, ""))
        entries += [
            (error.message, f"{formset.prefix}-group")
            for error in formset.non_form_errors().as_data()
            if error.code != "draft_mistakes"  # "Nothing was saved": the summary says why
        ]
    return entries


class DraftContentInline:
    """Rows of a version: editable while it is a draft, read-only once published."""

    extra = 0

    def _editable(self, request: HttpRequest, obj: Any, permission: str) -> bool:
        allowed: bool = getattr(super(), permission)(request, obj)
        return allowed and (obj is None or obj.is_draft)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj, "has_add_permission")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj, "has_change_permission")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj, "has_delete_permission")


class ParameterInline(DraftContentInline, admin.TabularInline[Parameter, QuestionSetVersion]):
    model = Parameter
    formset = ParameterRows
    fields = ["name", "value", "description"]


class SectionInline(DraftContentInline, admin.TabularInline[Section, QuestionSetVersion]):
    model = Section
    formset = SectionRows
    fields = ["position", "key", "title", "intro"]


class QuestionInline(DraftContentInline, admin.TabularInline[Question, QuestionSetVersion]):
    model = Question
    form = QuestionRowForm
    formset = QuestionRows
    fields = ["section", "position", "key", "text", "type", "required", "follow_up"]
    show_change_link = True
    verbose_name_plural = "Questions (choices and type settings on each question's page)"

    # What a read-only (published) version shows in place of the editable fields.
    @admin.display(description="Show only if (follow-up)")
    def follow_up(self, question: Question) -> str:
        return condition_text(question.show_if) or "–"


class RuleInline(DraftContentInline, admin.StackedInline[Rule, QuestionSetVersion]):
    model = Rule
    form = RuleForm
    formset = RuleRows
    fields = [
        "position",
        "rule_id",
        "flag",
        "tier",
        "temporary",
        "condition",
        "practitioner_message",
        "patient_guidance",
        "sources",
    ]

    @admin.display(description="When (condition)")
    def condition(self, rule: Rule) -> str:
        return condition_text(rule.when)

    @admin.display(description="Sources")
    def sources(self, rule: Rule) -> str:
        return ", ".join(rule.rule_sources) or "–"


@admin.register(QuestionSetVersion)
class QuestionSetVersionAdmin(ChecksWholeDraft, admin.ModelAdmin[QuestionSetVersion]):
    form = VersionForm
    list_display = [
        "__str__",
        "status",
        "approval",
        "published_by",
        "published_at",
        "submissions",
        "short_hash",
    ]
    list_filter = ["question_set", "status"]
    list_select_related = ["question_set", "published_by"]
    inlines = [ParameterInline, SectionInline, QuestionInline, RuleInline]
    change_form_template = "admin/intake/questionsetversion/change_form.html"
    change_list_template = "admin/intake/questionsetversion/change_list.html"
    readonly_fields = ["number", "status", "content_hash", "published_at", "published_by"]

    class Media:
        css = {"all": ["intake/authoring.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[QuestionSetVersion]:
        return QuestionSetVersion.objects.with_submission_counts()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("question_set", "label", "notes")
        return (
            "question_set",
            "number",
            "status",
            "label",
            "notes",
            "content_hash",
            "published_at",
            "published_by",
            "advice",
            "sources",
            "declarations",
            "test_cases",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        return (*self.readonly_fields, "question_set")

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        return [] if obj is None else list(self.inlines)

    @admin.display(description="Submissions", ordering="submission_count")
    def submissions(self, version: QuestionSetVersion) -> int:
        return getattr(version, "submission_count", 0)

    @admin.display(description="Approval")
    def approval(self, version: QuestionSetVersion) -> str:
        return str(version.approval_state.label)

    @admin.display(description="Content hash")
    def short_hash(self, version: QuestionSetVersion) -> str:
        return version.content_hash[:12]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.is_draft)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or obj.is_draft)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.number = obj.question_set.next_version_number()
        super().save_model(request, obj, form, change)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        name = "intake_questionsetversion"
        return [
            path("import/", view(self.import_view), name=f"{name}_import"),
            path("<int:pk>/publish/", view(self.publish_view), name=f"{name}_publish"),
            path("<int:pk>/submit/", view(self.submit_view), name=f"{name}_submit"),
            path("<int:pk>/approve/", view(self.approve_view), name=f"{name}_approve"),
            path("<int:pk>/cases/", view(self.cases_view), name=f"{name}_cases"),
            path("<int:pk>/new-draft/", view(self.new_draft_view), name=f"{name}_new_draft"),
            path("<int:pk>/retire/", view(self.retire_view), name=f"{name}_retire"),
            path("<int:pk>/preview/", view(self.preview_view), name=f"{name}_preview"),
            path("<int:pk>/export.json", view(self.export_json), name=f"{name}_export"),
            path("<int:pk>/dictionary.csv", view(self.export_csv), name=f"{name}_dictionary"),
            path("<int:pk>/fhir.json", view(self.export_fhir), name=f"{name}_fhir"),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        version = self.get_object(request, object_id)
        can_add = self.has_add_permission(request)
        context = {
            **(extra_context or {}),
            "can_edit": version is not None and self.has_change_permission(request, version),
            "can_copy": can_add,
            "can_retire": version is not None
            and version.status == VersionStatus.PUBLISHED
            and self.has_change_permission(request),
        }
        return super().change_view(request, object_id, form_url, context)

    # The pages beside the change form

    def _version(self, request: HttpRequest, pk: int, *, edit: bool = False) -> QuestionSetVersion:
        allowed = self.has_change_permission(request) if edit else self.has_view_permission(request)
        if not allowed:
            raise PermissionDenied
        version = (
            QuestionSetVersion.objects.select_related("question_set", "published_by")
            .filter(pk=pk)
            .first()
        )
        if version is None:
            raise Http404("No such version.")
        return version

    def _page(
        self, request: HttpRequest, template: str, version: QuestionSetVersion | None, **extra: Any
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "version": version,
            **extra,
        }
        return TemplateResponse(request, f"admin/intake/questionsetversion/{template}", context)

    def _change_url(self, version: QuestionSetVersion) -> str:
        return reverse("admin:intake_questionsetversion_change", args=[version.pk])

    def cases_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Run the version's test cases and show each one's result; stores nothing."""
        version = self._version(request, pk)
        try:
            results = version.run_cases()
        except PublishError as error:
            return self._page(
                request,
                "cases.html",
                version,
                title=f"Test cases of {version}",
                problems=error.problems,
            )
        return self._page(
            request,
            "cases.html",
            version,
            title=f"Test cases of {version}",
            results=results,
            failed=sum(not result.passed for result in results),
        )

    def publish_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """What publishing would change and who it affects, and the two-person rule's next step:
        submit for approval, approve (a medical lead), publish. Publishing itself on POST."""
        version = self._version(request, pk)
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            try:
                with transaction.atomic():
                    locked = QuestionSetVersion.objects.select_for_update().get(pk=version.pk)
                    locked.publish(by=request.user)  # type: ignore[arg-type]
            except PublishError as error:
                return self._publish_page(request, version, problems=error.problems, status=400)
            except FrozenVersionError:
                messages.info(request, f"{version} is already published.")
                return HttpResponseRedirect(self._change_url(version))
            messages.success(request, f"{locked} is published: new patients now get it.")
            return HttpResponseRedirect(self._change_url(locked))
        return self._publish_page(request, version)

    def submit_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """A clinic admin asks a medical lead to approve the draft as it is."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        version = self._version(request, pk, edit=True)
        try:
            with transaction.atomic():
                locked = QuestionSetVersion.objects.select_for_update().get(pk=version.pk)
                locked.submit_for_approval(by=request.user)  # type: ignore[arg-type]
        except PublishError as error:
            return self._publish_page(request, version, problems=error.problems, status=400)
        except ApprovalRefused as refused:
            return self._publish_page(request, version, refused=str(refused), status=409)
        messages.success(
            request, f"{locked} is submitted: a medical lead who did not edit it can approve it."
        )
        return HttpResponseRedirect(self._publish_url(locked))

    def approve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """A medical lead approves the version they read, with a note."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        version = self._version(request, pk)
        refusal = version.approval_refusal(request.user)  # type: ignore[arg-type]
        if refusal:
            raise PermissionDenied(refusal)
        form = ApprovalForm(request.POST)
        if not form.is_valid():
            return self._publish_page(request, version, approval_form=form, status=400)
        try:
            with transaction.atomic():
                locked = QuestionSetVersion.objects.select_for_update().get(pk=version.pk)
                locked.approve(
                    by=request.user,  # type: ignore[arg-type]
                    note=form.cleaned_data["note"],
                    seen_hash=form.cleaned_data["seen_hash"],
                )
        except ApprovalRefused as refused:
            return self._publish_page(request, version, refused=str(refused), status=409)
        if locked.is_draft:
            messages.success(request, f"{locked} is approved: it can now be published.")
            return HttpResponseRedirect(self._publish_url(locked))
        messages.success(request, f"{locked} is approved for use.")
        return HttpResponseRedirect(self._change_url(locked))

    def _publish_url(self, version: QuestionSetVersion) -> str:
        return reverse("admin:intake_questionsetversion_publish", args=[version.pk])

    def _publish_page(
        self,
        request: HttpRequest,
        version: QuestionSetVersion,
        *,
        problems: list[Problem] | None = None,
        refused: str = "",
        approval_form: ApprovalForm | None = None,
        status: int = 200,
    ) -> HttpResponse:
        version.refresh_from_db()
        document = version.to_document()  # read once for the checks, the diff and the replay
        seen_hash = version.check_bound(document) if version.is_draft else version.approval_hash()
        if problems is None:
            problems = version.problems(document)
            if not problems:
                try:
                    results = version.run_cases(document)
                except PublishError as error:
                    problems = error.problems
                else:
                    problems = [case_failure(r) for r in results if not r.passed]
        current = version.previous_published() if version.is_draft else None
        changes = (
            [
                *compare_documents(current.to_document(), document),
                *compare_cases(current.test_cases, version.test_cases),
            ]
            if current
            else []
        )
        user = request.user
        state = version.approval_state
        approvable = state in (ApprovalState.AWAITING, ApprovalState.INSTALLED)
        refusal = version.approval_refusal(user) if approvable else None  # type: ignore[arg-type]
        can_change = self.has_change_permission(request)
        response = self._page(
            request,
            "publish.html",
            version,
            title=f"{version}: approval"
            if state == ApprovalState.INSTALLED
            else f"{version}: approval and publishing",
            problems=problems,
            refused=refused,
            state=state,
            states=ApprovalState,
            editors=list(version.editors.order_by("username")),
            can_submit=can_change and state == ApprovalState.EDITING and not problems,
            can_publish=can_change and state == ApprovalState.APPROVED and not problems,
            can_approve=approvable and refusal is None and not problems,
            approval_refusal=refusal,
            approval_form=approval_form or ApprovalForm(initial={"seen_hash": seen_hash}),
            current=current,
            replay=_replay(document, version, current),
            changes=changes,
            splits=[change for change in changes if change.status == "split"],
            impact=publishing_impact(current, now=timezone.now()) if current else None,
            case_count=len(version.test_cases),
        )
        response.status_code = status
        return response

    def new_draft_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Copy a version, with its test cases, into a new draft."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        version = self._version(request, pk)
        try:
            draft = version.new_draft()
            draft.record_edit(request.user)  # type: ignore[arg-type]
        except PublishError as error:
            # A version published before today's checks (a name in braces that is no parameter).
            messages.error(
                request,
                f"{version} cannot be copied as it is: "
                + " ".join(problem.message for problem in error.problems),
            )
            return HttpResponseRedirect(self._change_url(version))
        messages.success(
            request,
            f"{draft} is a new draft copied from version {version.number}. "
            "Give it a label and release notes of its own.",
        )
        return HttpResponseRedirect(self._change_url(draft))

    def retire_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Stop new patients starting on a published version; what it holds stays as it is."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        version = self._version(request, pk, edit=True)
        try:
            version.retire()
        except FrozenVersionError:
            messages.error(request, f"Only a published version can be retired; {version} is not.")
            return HttpResponseRedirect(self._change_url(version))
        messages.success(request, f"{version} is retired: new patients can no longer start it.")
        return HttpResponseRedirect(self._change_url(version))

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Import a question-set JSON document (and its test cases) as a new draft."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        posted = request.method == "POST"
        form = ImportForm(request.POST, request.FILES) if posted else ImportForm()
        problems: list[Problem] = []
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    draft = import_document(form.cleaned_data["document"])
                    draft.test_cases = form.cleaned_data["cases"]
                    draft.save(update_fields=["test_cases"])
                    incomplete = draft.incomplete_cases()
                    if incomplete:
                        raise PublishError(incomplete)
                    draft.record_edit(request.user)  # type: ignore[arg-type]
            except PublishError as error:
                problems = error.problems
            else:
                messages.success(request, f"{draft} is imported as a draft.")
                return HttpResponseRedirect(self._change_url(draft))
        response = self._page(
            request,
            "import.html",
            None,
            title="Import a question set",
            form=form,
            problems=problems,
        )
        if request.method == "POST":
            response.status_code = 400
        return response

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The version as a patient sees it, step by step; nothing is stored."""
        return preview_step(request, self._version(request, pk), admin_site=self.admin_site)

    def export_json(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = self._version(request, pk)
        return _download(
            json.dumps(version.to_document(), indent=2, ensure_ascii=False) + "\n",
            "application/json",
            f"{version.question_set.slug}-v{version.number}.json",
        )

    def export_csv(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = self._version(request, pk)
        return _download(
            data_dictionary_csv(version.to_document()),
            "text/csv; charset=utf-8",
            f"{version.question_set.slug}-v{version.number}-dictionary.csv",
        )

    def export_fhir(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = self._version(request, pk)
        resource = fhir.questionnaire(version)
        return _download(
            json.dumps(resource, indent=2, ensure_ascii=False) + "\n",
            "application/fhir+json",
            f"{version.question_set.slug}-v{version.number}-questionnaire.json",
        )


def _edited(request: HttpRequest, changed: Any) -> None:
    """After a save on a draft's pages: record who edited it, and say if that voided a
    submission for approval or an approval."""
    version = changed if isinstance(changed, QuestionSetVersion) else changed.version
    version = QuestionSetVersion.objects.get(pk=version.pk)
    if version.record_edit(request.user):  # type: ignore[arg-type]
        messages.warning(
            request,
            f"{version} changed, so its submission for approval is void: "
            "submit it again when it is ready.",
        )


def _download(content: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(Question)
class QuestionAdmin(ChecksWholeDraft, admin.ModelAdmin[Question]):
    """A question's own page: its type settings and choices (reached from its version)."""

    form = QuestionForm
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "version",
                    "section",
                    "position",
                    "key",
                    "text",
                    "short_name",
                    "help_text",
                ]
            },
        ),
        (None, {"fields": ["type", "required", "follow_up"]}),
        (
            "Date questions",
            {"fields": ["date_range", "allow_month_year", "allow_not_sure", "not_sure_label"]},
        ),
        ("Number questions", {"fields": ["min", "max"]}),
        ("Text questions", {"fields": ["max_length"]}),
    ]

    class ChoiceInline(DraftContentInline, admin.TabularInline[Choice, Question]):
        model = Choice
        formset = ChoiceRows
        fields = ["position", "code", "label"]

        def _editable(self, request: HttpRequest, obj: Any, permission: str) -> bool:
            allowed: bool = getattr(admin.TabularInline, permission)(self, request, obj)
            return allowed and (obj is None or obj.version.is_draft)

    inlines = [ChoiceInline]

    class Media:
        css = {"all": ["intake/authoring.css"]}

    @admin.display(description="Show only if (follow-up)")
    def follow_up(self, question: Question) -> str:
        return condition_text(question.show_if) or "–"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is not None and not obj.version.is_draft:
            # A published question's type settings, read from what it stores.
            return ("version", "follow_up", "settings")
        return ("version",)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        general = list(self.fieldsets[:2])
        if obj is not None and not obj.version.is_draft:
            return [*general, ("Type settings", {"fields": ["settings"]})]
        # Only the settings of the question's type; another type's appear once it is saved.
        heading = {
            "date": "Date questions",
            "number": "Number questions",
            "short_text": "Text questions",
            "long_text": "Text questions",
        }.get(obj.type if obj is not None else "")
        return [*general, *(part for part in self.fieldsets[2:] if part[0] == heading)]

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        # Yes/no questions have their choices built in; only choice questions list their own.
        if obj is not None and obj.type in LISTED_CHOICE_TYPES:
            return list(self.inlines)
        return []

    @admin.display(description="Type settings")
    def settings(self, question: Question) -> str:
        options = question.options
        return ", ".join(f"{k}: {json.dumps(v)}" for k, v in sorted(options.items())) or "–"

    def get_model_perms(self, request: HttpRequest) -> dict[str, bool]:
        # Questions are reached from their version's page, not listed on the admin index.
        return {}

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm[Any]]:
        form_class = super().get_form(request, obj, change, **kwargs)
        section = form_class.base_fields.get("section")
        if obj is not None and isinstance(section, ModelChoiceField):
            section.queryset = Section.objects.filter(version_id=obj.version_id)
        # With no choice rows on the page, the question's own form checks the whole draft.
        checks_draft = not self.get_inlines(request, obj)
        return type(form_class.__name__, (form_class,), {"checks_draft": checks_draft})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # questions are added on their version's page

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.version.is_draft)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.version.is_draft)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        _edited(request, obj.version)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        versions = {question.version for question in queryset.select_related("version")}
        super().delete_queryset(request, queryset)
        for version in versions:
            _edited(request, version)

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        if "_continue" in request.POST:
            return super().response_change(request, obj)
        messages.success(request, f"Question “{obj.key}” saved.")
        return HttpResponseRedirect(
            reverse("admin:intake_questionsetversion_change", args=[obj.version_id])
        )


class VersionInline(admin.TabularInline[QuestionSetVersion, QuestionSet]):
    model = QuestionSetVersion
    fields = readonly_fields = (
        "number",
        "label",
        "status",
        "published_at",
        "published_by",
        "submissions",
        "content_hash",
    )
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[QuestionSetVersion]:
        return QuestionSetVersion.objects.with_submission_counts().select_related("published_by")

    @admin.display(description="Submissions")
    def submissions(self, version: QuestionSetVersion) -> int:
        return getattr(version, "submission_count", 0)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(QuestionSet)
class QuestionSetAdmin(admin.ModelAdmin[QuestionSet]):
    list_display = ["title", "slug", "versions_in_short", "created_at"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [VersionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[QuestionSet]:
        return super().get_queryset(request).prefetch_related("versions")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # The title and description are part of each draft's content, as approved.
        for draft in obj.versions.filter(status=VersionStatus.DRAFT):
            _edited(request, draft)

    @admin.display(description="Versions")
    def versions_in_short(self, question_set: QuestionSet) -> str:
        parts = [f"v{v.number} {v.status}" for v in question_set.versions.all()]
        return format_html("{}", ", ".join(parts) or "–")


def _replay(
    document: dict[str, Any], version: QuestionSetVersion, current: QuestionSetVersion | None
) -> Replay | None:
    """What the draft (`document`, made from `version`) would raise for its cases and recent
    patients, where it can be run."""
    if current is None:
        return None
    try:
        draft = load_definition(document)
    except DefinitionError:
        return None  # the page lists the problems instead
    return replay(draft, version=version, current=published.questionnaire(current).definition)
