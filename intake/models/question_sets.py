"""Question sets as versioned data.

A question set has numbered versions. A draft is edited as rows (sections, questions, choices,
rules, parameters); publishing validates it, stores the whole document as one frozen JSON snapshot
with a content hash, and from then on neither the version nor any of its rows can change.
Submissions point at the exact published version they answered and render from its snapshot.

Two people publish. A clinic admin submits a draft for approval; a medical lead who neither
submitted nor edited it approves it with a note; then it can be published. The submission and the
approval are bound to the draft's approval hash (its document and test cases): any edit voids
them. The first version of a question set, installed by `load_question_set --publish`, goes live
at once but is marked "installed, awaiting medical-lead approval" until a medical lead approves it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.db import connections, models, transaction
from django.utils import timezone

from intake.models.accounts import User
from intake.rules import DOCUMENT_FORMAT, DefinitionError, Problem, Tier, load_definition, validate
from intake.rules.cases import CaseFileError, CaseResult, parse_cases, run_case, state_tiers

# A flag's tier is stored as the value of the engine's tier scale (intake.rules.Tier).
TIER_CHOICES = [(tier.value, tier.label) for tier in Tier]


class FrozenVersionError(Exception):
    """Raised on any attempt to change a version that has been published."""


class ApprovalRefused(Exception):
    """Raised when a step of the two-person publishing rule is refused; says why, for people."""


# The permission that lets someone approve a version; held by the Medical lead role, and only
# ever through a role or a grant of its own: being a superuser is not enough.
APPROVE_PERMISSION = "approve_questionsetversion"


class PublishError(Exception):
    """Raised when a draft fails the publishing checks; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(problem.message for problem in problems))


def document_as_read(document: dict[str, Any], declarations: dict[str, Any]) -> dict[str, Any]:
    """A version's document as the app reads it: one frozen before the format had declarations
    (format 1) is read with those the version was given once, when they were introduced
    (migration 0013), never with today's."""
    if "declarations" in document or not declarations:
        return document
    return {**document, "format": DOCUMENT_FORMAT, "declarations": declarations}


def content_hash(document: dict[str, Any]) -> str:
    """SHA-256 of a document's canonical JSON form (sorted keys, no insignificant spaces)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class QuestionSet(models.Model):
    slug = models.SlugField(unique=True, help_text="Stable identifier used in URLs and files.")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Shown to patients on the start page.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def latest_published(self) -> QuestionSetVersion | None:
        """The version new patients get: the highest-numbered published one."""
        return self.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()

    def next_version_number(self) -> int:
        last = self.versions.order_by("-number").values_list("number", flat=True).first()
        return (last or 0) + 1


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class ApprovalState(models.TextChoices):
    """Where a version stands under the two-person publishing rule."""

    EDITING = "editing", "Being edited"
    AWAITING = "awaiting", "Awaiting medical-lead approval"
    APPROVED = "approved", "Approved, ready to publish"
    INSTALLED = "installed", "Installed, awaiting medical-lead approval"
    SIGNED_OFF = "signed_off", "Approved by a medical lead"
    RETIRED = "retired", "Retired"


@dataclass(frozen=True)
class ListedVersion:
    """A published or retired version as staff pages list it (QuestionSetVersionQuerySet.listed)."""

    pk: int
    question_set_id: int
    title: str
    number: int
    label: str
    status: str
    approved_by_id: int | None
    filters: Any  # the queue filters it declares, {key: {"label": …}}, as stored

    def __str__(self) -> str:
        return f"{self.title} v{self.number}" + (f" ({self.label})" if self.label else "")


def listed_for(request: Any) -> list[ListedVersion]:
    """QuestionSetVersion.objects.listed(), once per request: a staff page lists the versions
    in several places (the notice of those awaiting sign-off, the queue's filters)."""
    found: list[ListedVersion] | None = getattr(request, "_listed_versions", None)
    if found is None:
        found = request._listed_versions = QuestionSetVersion.objects.listed()
    return found


def awaiting_sign_off(versions: list[ListedVersion]) -> list[ListedVersion]:
    """The versions new patients get (the latest published of each set) that went live at
    installation and still wait for a medical lead's sign-off."""
    latest: dict[int, ListedVersion] = {}
    for version in versions:
        if version.status == VersionStatus.PUBLISHED:
            shown = latest.setdefault(version.question_set_id, version)
            if version.number > shown.number:
                latest[version.question_set_id] = version
    return [version for version in latest.values() if version.approved_by_id is None]


class QuestionSetVersionQuerySet(models.QuerySet["QuestionSetVersion"]):
    def published(self) -> QuestionSetVersionQuerySet:
        return self.filter(status=VersionStatus.PUBLISHED)

    def listed(self) -> list[ListedVersion]:
        """Every published and retired version, with only what staff pages list of them: their
        names, whether a medical lead approved them and their queue filters. One light query
        (their definitions and test cases are tens of kilobytes of JSON each)."""
        rows = (
            self.exclude(status=VersionStatus.DRAFT)
            .order_by("question_set__title", "question_set_id", "-number")
            .values_list(
                "pk",
                "question_set_id",
                "question_set__title",
                "number",
                "label",
                "status",
                "approved_by",
                "declarations__filters",
            )
        )
        return [ListedVersion(*row) for row in rows]

    def offered(self, slug: str) -> QuestionSetVersion | None:
        """The version new patients of a question set start on: the latest published one, with
        its id, number and content hash only. The patient's pages read its questionnaire once
        per process, from intake.published; any other field loads when it is first read.

        Every start page asks for it. Written out, the query costs a fraction of the ORM's
        composing it afresh on each request (bench/notes.md).
        """
        connection = connections[self.db]
        quote = connection.ops.quote_name
        version, question_set = QuestionSetVersion._meta, QuestionSet._meta

        def column(meta: Any, name: str) -> str:
            return str(quote(meta.get_field(name).column))

        fields = ["id", "question_set", "number", "content_hash"]
        columns = ", ".join(f"v.{column(version, name)}" for name in fields)
        sql = (
            f"SELECT {columns} FROM {quote(version.db_table)} v "  # noqa: S608 - the models' names
            f"JOIN {quote(question_set.db_table)} s "
            f"ON s.{column(question_set, 'id')} = v.{column(version, 'question_set')} "
            f"WHERE v.{column(version, 'status')} = %s AND s.{column(question_set, 'slug')} = %s "
            f"ORDER BY v.{column(version, 'number')} DESC LIMIT 1"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [VersionStatus.PUBLISHED.value, slug])
            row = cursor.fetchone()
        if row is None:
            return None
        # from_db takes the values in the model's own order of fields.
        by_name = dict(zip(fields, row, strict=True))
        values = {
            field.attname: by_name[field.name]
            for field in version.concrete_fields
            if field.name in by_name
        }
        loaded = list(values)
        return QuestionSetVersion.from_db(self.db, loaded, [values[name] for name in loaded])

    def with_submission_counts(self) -> QuestionSetVersionQuerySet:
        return self.annotate(submission_count=models.Count("submissions"))

    def update(self, **kwargs: Any) -> int:
        if self.exclude(status=VersionStatus.DRAFT).exists():
            raise FrozenVersionError("Published versions cannot be changed in bulk.")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.exclude(status=VersionStatus.DRAFT).exists():
            raise FrozenVersionError("Published versions cannot be deleted.")
        return super().delete()


# Fields of a version that publishing freezes; only the status may move on (to retired).
_FROZEN_FIELDS = (
    "question_set_id",
    "number",
    "label",
    "notes",
    "definition",
    "content_hash",
    "test_cases",
    "declarations",
)
# A published version's go-live approval is given once, then frozen with the rest.
_APPROVAL_FIELDS = (
    "approved_by_id",
    "approved_at",
    "approval_note",
    "approved_hash",
    "approved_against",
)


class QuestionSetVersion(models.Model):
    question_set = models.ForeignKey(QuestionSet, models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(editable=False)
    label = models.CharField(max_length=50, blank=True, help_text="e.g. 2026.1")
    notes = models.TextField(blank=True, help_text="What changed in this version.")
    status = models.CharField(
        max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT, editable=False
    )
    advice = models.JSONField(
        default=list, blank=True, help_text="Standard preparation and aftercare advice."
    )
    sources = models.JSONField(default=dict, blank=True, help_text="Source codes cited by rules.")
    test_cases = models.JSONField(
        default=list,
        blank=True,
        help_text="Example patients and the flags they must raise; all must pass to publish.",
    )
    declarations = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the question set declares beside its questions and rules: the treatment's "
        "name, the plans flags need before clearing, the review queue's filters.",
    )
    definition = models.JSONField(null=True, blank=True, editable=False)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, editable=False
    )
    # Who changed the draft's content, and the approval hash after the last recorded change.
    editors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="edited_versions", editable=False
    )
    edited_hash = models.CharField(max_length=64, blank=True, editable=False)
    # Submitted for approval (by nobody when `load_question_set` leaves a draft for approval).
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    submitted_hash = models.CharField(max_length=64, blank=True, editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    approval_note = models.TextField(blank=True, editable=False)
    approved_hash = models.CharField(max_length=64, blank=True, editable=False)
    # The content hash of the version published when it was approved, which its changes were
    # read against ("" for none): publishing after another version is refused.
    approved_against = models.CharField(max_length=64, blank=True, editable=False)

    objects = QuestionSetVersionQuerySet.as_manager()

    class Meta:
        ordering = ["question_set", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["question_set", "number"], name="unique_version_number"
            ),
        ]
        indexes = [
            # QuestionSet.latest_published(): newest published version of one set.
            models.Index(fields=["question_set", "status", "-number"], name="version_latest_idx"),
        ]
        permissions = [
            (APPROVE_PERMISSION, "Can approve a question-set version (medical lead)"),
        ]

    def __str__(self) -> str:
        label = f" ({self.label})" if self.label else ""
        return f"{self.question_set} v{self.number}{label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = QuestionSetVersion.objects.filter(pk=self.pk)
            before = stored.values(*_FROZEN_FIELDS, *_APPROVAL_FIELDS, "status").first()
            if before is not None and before["status"] != VersionStatus.DRAFT:
                frozen = _FROZEN_FIELDS + (_APPROVAL_FIELDS if before["approved_hash"] else ())
                changed = [name for name in frozen if before[name] != getattr(self, name)]
                if changed or self.status == VersionStatus.DRAFT:
                    raise FrozenVersionError(f"{self} is published and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if not self.is_draft:
            raise FrozenVersionError(f"{self} is published and cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT

    def to_document(self) -> dict[str, Any]:
        """The version as one JSON document: the frozen snapshot once published, read with the
        declarations it was given if it was frozen before they existed (document_as_read)."""
        if isinstance(self.definition, dict):
            return document_as_read(self.definition, self.declarations)
        return self.document_from(self.saved_rows())

    def saved_rows(self) -> DraftRows:
        """The version's rows as they are in the database."""
        choices: dict[int | None, list[Choice]] = {}
        for choice in Choice.objects.filter(question__version=self):
            choices.setdefault(choice.question_id, []).append(choice)
        return DraftRows(
            parameters=list(self.parameters.all()),
            sections=list(self.sections.all()),
            questions=list(self.questions.all()),
            choices=choices,
            rules=list(self.rules.all()),
        )

    def document_from(self, rows: DraftRows) -> dict[str, Any]:
        """The version as one JSON document, made from these rows and its own fields."""
        return _document_from(self, rows)

    def problems(self, document: dict[str, Any] | None = None) -> list[Problem]:
        """Every publishing check that the version (or `document`, made from it) fails."""
        return validate(document or self.to_document())

    def run_cases(self, document: dict[str, Any] | None = None) -> list[CaseResult]:
        """Evaluate every test case; raises PublishError if the version or its cases are invalid."""
        try:
            definition = load_definition(document or self.to_document())
            cases = parse_cases(self.test_cases)
        except DefinitionError as error:
            raise PublishError(error.problems) from None
        except CaseFileError as error:
            raise PublishError([Problem("invalid_cases", "cases", "", str(error))]) from None
        return [run_case(definition, case) for case in cases]

    def approval_hash(self, document: dict[str, Any] | None = None) -> str:
        """What a submission for approval and an approval are bound to: the version's document
        and its test cases. Any edit to either changes it."""
        return content_hash({"document": document or self.to_document(), "cases": self.test_cases})

    @property
    def approval_state(self) -> ApprovalState:
        """Where the version stands, from what is recorded on it (the pages that act on it check
        the hash again)."""
        if self.status == VersionStatus.RETIRED:
            return ApprovalState.RETIRED
        if self.status == VersionStatus.PUBLISHED:
            return ApprovalState.SIGNED_OFF if self.approved_by_id else ApprovalState.INSTALLED
        if self.approved_hash:
            return ApprovalState.APPROVED
        if self.submitted_hash:
            return ApprovalState.AWAITING
        return ApprovalState.EDITING

    def record_edit(self, by: User | None) -> bool:
        """Note that `by` may have changed the draft; if its content did change, they become one
        of its editors and any submission for approval or approval is void. True if voided."""
        if not self.is_draft:
            return False
        now_hash = self.approval_hash()
        if now_hash == self.edited_hash:
            return False
        if by is not None:
            self.editors.add(by)
        voided = self._void(by, now_hash, reason="edited")
        self.edited_hash = now_hash
        self.save(update_fields=["edited_hash"])
        return voided

    def _void(self, by: User | None, now_hash: str, *, reason: str, force: bool = False) -> bool:
        """Clear a submission or approval that no longer matches the content; audited."""
        bound = self.approved_hash or self.submitted_hash
        if not bound or (bound == now_hash and not force):
            return False
        was = self.approval_state
        self.submitted_at = self.submitted_by = self.approved_at = self.approved_by = None
        self.submitted_hash = self.approved_hash = self.approval_note = ""
        self.approved_against = ""
        self.save()
        _audit(by, "approval_void", self, was=str(was.label), reason=reason, hash=bound)
        return True

    def check_bound(self, document: dict[str, Any] | None = None) -> str:
        """The current approval hash; voids a submission or approval it no longer matches (an
        edit made another way than the admin's pages), and an approval that read its changes
        against a version patients no longer get."""
        now_hash = self.approval_hash(document)
        self._void(None, now_hash, reason="content differs from what was submitted")
        if self._approved_against_another():
            self._void(None, now_hash, reason="another version was published since", force=True)
        return now_hash

    def _approved_against_another(self) -> bool:
        if not self.approved_hash:
            return False
        current = self.previous_published()
        return (current.content_hash if current is not None else "") != self.approved_against

    def submit_for_approval(self, *, by: User | None) -> None:
        """Ask a medical lead to approve the draft as it is; it must pass every check first."""
        if not self.is_draft:
            raise ApprovalRefused(f"{self} is {self.get_status_display().lower()}, not a draft.")
        document = self.to_document()
        self._publishing_checks(document)
        now_hash = self.check_bound(document)
        if self.submitted_hash == now_hash:
            raise ApprovalRefused(f"{self} is already {self.approval_state.label.lower()}.")
        self.submitted_at = timezone.now()
        self.submitted_by = by
        self.submitted_hash = now_hash
        self.save()
        _audit(by, "approval_submit", self, hash=now_hash)

    def approval_refusal(self, user: User) -> str | None:
        """Why `user` may not approve this version, or None if they may."""
        if not user.is_active or not holds_permission(user, APPROVE_PERMISSION):
            return "Approving needs the Medical lead role."
        if self.submitted_by_id is not None and self.submitted_by_id == user.pk:
            return "You submitted this version for approval, so another medical lead approves it."
        if self.editors.filter(pk=user.pk).exists():
            return "You edited this version, so another medical lead approves it."
        return None

    def approve(self, *, by: User, note: str, seen_hash: str) -> None:
        """A medical lead's approval, bound to the content they saw (`seen_hash`).

        A draft must have been submitted for approval; a version installed at go-live is approved
        as it was published.
        """
        refusal = self.approval_refusal(by)
        if refusal:
            raise ApprovalRefused(refusal)
        if not note.strip():
            raise ApprovalRefused("Write a note saying what you checked.")
        state = self.approval_state
        if state not in (ApprovalState.AWAITING, ApprovalState.INSTALLED):
            raise ApprovalRefused(f"{self} is {state.label.lower()}; there is nothing to approve.")
        now_hash = self.check_bound() if self.is_draft else self.approval_hash()
        if self.is_draft and self.submitted_hash != now_hash:
            raise ApprovalRefused(
                f"{self} changed after it was submitted; it must be submitted for approval again."
            )
        if seen_hash != now_hash:
            raise ApprovalRefused(
                f"{self} changed while you were reading it; read it again before approving."
            )
        current = self.previous_published() if self.is_draft else None
        self.approved_at = timezone.now()
        self.approved_by = by
        self.approval_note = note.strip()
        self.approved_hash = now_hash
        self.approved_against = current.content_hash if current is not None else ""
        self.save()
        _audit(by, "approval_approve", self, hash=now_hash, installed=not self.is_draft)

    def incomplete_cases(self) -> list[Problem]:
        """Test cases that leave a required question unanswered without saying they are partial,
        each named with the questions; as importing reports them."""
        try:
            results = self.run_cases()
        except PublishError as error:
            return error.problems
        return [
            case_failure(result)
            for result in results
            if any(p.code == "unanswered_required" for p in result.problems)
        ]

    def publish(self, *, by: User | None = None) -> None:
        """Freeze an approved draft; PublishError lists every problem, a missing approval too."""
        if not self.is_draft:
            raise FrozenVersionError(f"{self} is already published.")
        document = self.to_document()
        self._publishing_checks(document)
        if self._approved_against_another():
            self.check_bound(document)  # voids the approval, in the audit log
            raise PublishError([_APPROVED_AGAINST_ANOTHER])
        now_hash = self.check_bound(document)
        if not self.approved_by_id or self.approved_hash != now_hash:
            raise PublishError([_NOT_APPROVED])
        self._freeze(document, by=by)

    def install(self, *, by: User | None = None) -> None:
        """Publish the first version of a question set at installation, marked as awaiting a
        medical lead's approval (the go-live sign-off). Later versions must be approved first."""
        if not self.is_draft:
            raise FrozenVersionError(f"{self} is already published.")
        if self.question_set.versions.exclude(status=VersionStatus.DRAFT).exists():
            raise PublishError([_NOT_APPROVED])
        document = self.to_document()
        self._publishing_checks(document)
        self._freeze(document, by=by)

    def _publishing_checks(self, document: dict[str, Any]) -> None:
        problems = validate(document)
        if problems:
            raise PublishError(problems)
        failures = [result for result in self.run_cases(document) if not result.passed]
        if failures:
            raise PublishError([case_failure(result) for result in failures])

    def _freeze(self, document: dict[str, Any], *, by: User | None) -> None:
        self.definition = document
        self.content_hash = content_hash(document)
        self.status = VersionStatus.PUBLISHED
        self.published_at = timezone.now()
        self.published_by = by
        self.save()
        _audit(by, "publish", self, hash=self.content_hash, approved=bool(self.approved_by_id))

    def retire(self) -> None:
        """Stop new patients starting on this version; what it holds stays as it is."""
        if self.status != VersionStatus.PUBLISHED:
            raise FrozenVersionError(f"Only a published version can be retired, not {self}.")
        self.status = VersionStatus.RETIRED
        self.save()

    def new_draft(self) -> QuestionSetVersion:
        """Copy this version and its test cases into a new draft, for the next round of edits.

        Cases written before they stated tiers get the tiers this version, if published, raises
        for them. The label and release notes are left for the new version's own.
        """
        document = self.to_document()
        draft = import_document(document | {"version": {"label": "", "notes": ""}})
        draft.test_cases = self.test_cases
        if self.is_draft:
            # Its content is theirs until approved: they may not approve the copy either.
            draft.editors.set(self.editors.all())
        else:  # only a published version's tiers are known to be approved
            # Cases that cannot be read are copied as they are, to be shown with what is wrong.
            with contextlib.suppress(CaseFileError, DefinitionError):
                draft.test_cases = state_tiers(self.test_cases, load_definition(document))
        draft.save(update_fields=["test_cases"])
        return draft

    def previous_published(self) -> QuestionSetVersion | None:
        """The version new patients get today, if it is another one: what this one would replace."""
        current = self.question_set.latest_published()
        return None if current is None or current.pk == self.pk else current


_NOT_APPROVED = Problem(
    "not_approved",
    "document",
    "",
    "A medical lead must approve this version, as it is now, before it is published: "
    "submit it for approval.",
)


_APPROVED_AGAINST_ANOTHER = Problem(
    "approved_against_another",
    "document",
    "",
    "Another version was published after this one was approved, so the approval read its "
    "changes against a version patients no longer get: submit it for approval again.",
)


def holds_permission(user: User, codename: str) -> bool:
    """Whether `user` holds an intake permission through a role or a grant of its own. Unlike
    `has_perm`, being a superuser does not count."""
    from django.contrib.auth.models import Permission

    held = Permission.objects.filter(content_type__app_label="intake", codename=codename)
    return held.filter(models.Q(user=user) | models.Q(group__user=user)).exists()


def _audit(by: User | None, action: str, version: QuestionSetVersion, **detail: Any) -> None:
    from intake.models.reviews import AuditEntry

    AuditEntry.objects.create(
        user=by, action=action, version=version, detail={"version": str(version), **detail}
    )


def case_failure(result: CaseResult) -> Problem:
    """A failed test case as a publishing problem, naming the case and what went wrong."""
    details = []
    invalid = [p for p in result.problems if p.code != "unanswered_required"]
    unanswered = [p.key for p in result.problems if p.code == "unanswered_required"]
    if invalid:
        details.append(
            "its answers do not fit: " + "; ".join(p.message.rstrip(".") for p in invalid)
        )
    if unanswered:
        details.append(
            "it leaves required questions unanswered: "
            + ", ".join(unanswered)
            + ' (a case that answers only what its rule reads says "partial": true)'
        )
    if result.missing:
        details.append("missing flags: " + ", ".join(result.missing))
    if result.unexpected:
        details.append("unexpected flags: " + ", ".join(result.unexpected))
    details.extend(result.differences)
    name = result.case.name
    return Problem(
        "case_failed", "case", name, f'Test case "{name}" fails: ' + "; ".join(details) + "."
    )


class VersionContentQuerySet(models.QuerySet[Any]):
    """Refuses bulk changes to rows that belong to a published version."""

    def _touches_frozen_version(self) -> bool:
        path = self.model.version_path
        return self.exclude(**{f"{path}__status": VersionStatus.DRAFT}).exists()

    def update(self, **kwargs: Any) -> int:
        if self._touches_frozen_version():
            raise FrozenVersionError("Rows of a published version cannot be changed.")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self._touches_frozen_version():
            raise FrozenVersionError("Rows of a published version cannot be deleted.")
        return super().delete()


class VersionContent(models.Model):
    """A row that is part of a version's definition, editable only while it is a draft."""

    version_path: ClassVar[str] = "version"

    objects = VersionContentQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._check_draft()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        self._check_draft()
        return super().delete(*args, **kwargs)

    def owning_version(self) -> QuestionSetVersion:
        return self.version  # type: ignore[attr-defined,no-any-return]

    def _check_draft(self) -> None:
        version = self.owning_version()
        fresh_status = (
            QuestionSetVersion.objects.filter(pk=version.pk)
            .values_list("status", flat=True)
            .first()
        )
        if fresh_status != VersionStatus.DRAFT:
            raise FrozenVersionError(f"{version} is published; its content cannot be changed.")


class Parameter(VersionContent):
    version = models.ForeignKey(QuestionSetVersion, models.CASCADE, related_name="parameters")
    name = models.CharField(
        max_length=60, help_text="UPPER_SNAKE_CASE, e.g. ISOTRETINOIN_BLOCK_MONTHS"
    )
    value = models.IntegerField()
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["version", "name"]
        constraints = [
            models.UniqueConstraint(fields=["version", "name"], name="unique_parameter_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"


class Section(VersionContent):
    version = models.ForeignKey(QuestionSetVersion, models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField(default=0)
    key = models.SlugField(max_length=60)
    title = models.CharField(max_length=200)
    intro = models.TextField(blank=True)

    class Meta:
        ordering = ["version", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="unique_section_key"),
        ]

    def __str__(self) -> str:
        return self.title


class QuestionType(models.TextChoices):
    YES_NO = "yes_no", "Yes / no"
    YES_NO_NOT_SURE = "yes_no_not_sure", "Yes / no / not sure"
    SINGLE_CHOICE = "single_choice", "Single choice"
    MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
    DATE = "date", "Date"
    NUMBER = "number", "Number"
    SHORT_TEXT = "short_text", "Short text"
    LONG_TEXT = "long_text", "Long text"


# Type-specific fields of a question, kept together in Question.options as the document has them.
QUESTION_OPTION_FIELDS = (
    "date_range",
    "allow_month_year",
    "allow_not_sure",
    "not_sure_label",
    "min",
    "max",
    "max_length",
)


class Question(VersionContent):
    version = models.ForeignKey(QuestionSetVersion, models.CASCADE, related_name="questions")
    section = models.ForeignKey(Section, models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(default=0)
    key = models.SlugField(max_length=60, help_text="Stable identifier used by conditions.")
    text = models.TextField(help_text="The question exactly as the patient sees it.")
    short_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="The words that complete an error message: “Select …” for a choice, “Enter …” "
        "for a date, number or text, e.g. “whether you smoke”. Left blank, messages quote the "
        "question.",
    )
    help_text = models.TextField(blank=True)
    type = models.CharField(max_length=20, choices=QuestionType.choices)
    required = models.BooleanField(default=True)
    show_if = models.JSONField(
        null=True, blank=True, help_text="Shown only when this condition holds (follow-up)."
    )
    options = models.JSONField(default=dict, blank=True, help_text="Type-specific settings.")

    class Meta:
        ordering = ["version", "section__position", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="unique_question_key"),
        ]

    def __str__(self) -> str:
        return self.key


class Choice(VersionContent):
    version_path = "question__version"

    question = models.ForeignKey(Question, models.CASCADE, related_name="choices")
    position = models.PositiveIntegerField(default=0)
    code = models.SlugField(max_length=60, help_text="Stable code stored in answers.")
    label = models.CharField(max_length=300)

    class Meta:
        ordering = ["question", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["question", "code"], name="unique_choice_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.label}"

    def owning_version(self) -> QuestionSetVersion:
        return self.question.version


class Rule(VersionContent):
    version = models.ForeignKey(QuestionSetVersion, models.CASCADE, related_name="rules")
    position = models.PositiveIntegerField(default=0)
    rule_id = models.SlugField(max_length=80, help_text="Unique within the version.")
    flag = models.SlugField(
        max_length=80, help_text="Flag code raised; several rules may share one."
    )
    tier = models.CharField(max_length=20, choices=TIER_CHOICES)
    temporary = models.BooleanField(
        default=False, help_text="A not-possible flag that clears with time."
    )
    when = models.JSONField(help_text="The condition that raises the flag.")
    practitioner_message = models.TextField()
    patient_guidance = models.TextField(blank=True)
    rule_sources = models.JSONField(default=list, blank=True, help_text="Source codes.")

    class Meta:
        ordering = ["version", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "rule_id"], name="unique_rule_id"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} → {self.flag} ({self.tier})"


@dataclass
class DraftRows:
    """A version's rows, from the database or as a form would leave them; choices by question."""

    parameters: list[Parameter]
    sections: list[Section]
    questions: list[Question]
    choices: dict[int | None, list[Choice]]
    rules: list[Rule]


def _document_from(version: QuestionSetVersion, rows: DraftRows) -> dict[str, Any]:
    question_set = version.question_set
    # Rows are in their page's order; a section deleted takes its questions with it.
    sections = sorted(rows.sections, key=lambda s: (s.position, s.pk or _LAST))
    placed = {section.pk: index for index, section in enumerate(sections) if section.pk}
    questions = sorted(
        (q for q in rows.questions if q.section_id in placed),
        key=lambda q: (placed[q.section_id], q.position, q.pk or _LAST),
    )
    by_section: dict[int, list[dict[str, Any]]] = {pk: [] for pk in placed}
    for question in questions:
        item: dict[str, Any] = {"key": question.key, "text": question.text}
        # Only when given, so that a question without one keeps the document it had before
        # short names were introduced (and its draft's approval stays bound to it).
        if question.short_name:
            item["short_name"] = question.short_name
        item.update(
            {"help_text": question.help_text, "type": question.type, "required": question.required}
        )
        item.update(
            {k: question.options[k] for k in QUESTION_OPTION_FIELDS if k in question.options}
        )
        listed = sorted(
            rows.choices.get(question.pk, ()), key=lambda c: (c.position, c.pk or _LAST)
        )
        choices = [{"code": c.code, "label": c.label} for c in listed]
        if choices:
            item["choices"] = choices
        item["show_if"] = question.show_if
        by_section[question.section_id].append(item)
    return {
        "format": DOCUMENT_FORMAT,
        "question_set": {
            "slug": question_set.slug,
            "title": question_set.title,
            "description": question_set.description,
        },
        "version": {"label": version.label, "notes": version.notes},
        "parameters": {
            p.name: {"value": p.value, "description": p.description}
            for p in sorted(rows.parameters, key=lambda p: p.name)
        },
        "sources": version.sources,
        "advice": version.advice,
        "declarations": version.declarations,
        "sections": [
            {
                "key": section.key,
                "title": section.title,
                "intro": section.intro,
                "questions": by_section[section.pk] if section.pk else [],
            }
            for section in sections
        ],
        "rules": [
            {
                "id": rule.rule_id,
                "flag": rule.flag,
                "tier": rule.tier,
                "temporary": rule.temporary,
                "when": rule.when,
                "practitioner_message": rule.practitioner_message,
                "patient_guidance": rule.patient_guidance,
                "sources": rule.rule_sources,
            }
            for rule in sorted(rows.rules, key=lambda r: (r.position, r.pk or _LAST))
        ],
    }


# Rows not saved yet (no primary key) come after the saved ones at the same position.
_LAST = 2**63


def _too_long(document: dict[str, Any]) -> list[Problem]:
    """Texts and identifiers longer than their database columns hold, each named."""
    problems = []

    def check(
        model: type[models.Model], field: str, value: Any, where: tuple[str, str], what: str
    ) -> None:
        column = model._meta.get_field(field)
        limit = column.max_length if isinstance(column, models.Field) else None
        if isinstance(value, str) and limit is not None and len(value) > limit:
            message = f"{what} is {len(value)} characters long; at most {limit} are allowed."
            problems.append(Problem("too_long", *where, message))

    whole_document: tuple[str, str] = ("document", "")

    meta = document["question_set"]
    check(QuestionSet, "slug", meta.get("slug"), whole_document, "The question set's slug")
    check(QuestionSet, "title", meta.get("title"), whole_document, "The question set's title")
    label = (document.get("version") or {}).get("label")
    check(QuestionSetVersion, "label", label, whole_document, "The version label")
    for name in document.get("parameters") or {}:
        check(Parameter, "name", name, ("parameter", name), f'Parameter name "{name[:20]}…"')
    for section in document["sections"]:
        where = ("section", section["key"])
        check(Section, "key", section["key"], where, f'Section key "{section["key"][:20]}…"')
        check(Section, "title", section["title"], where, f'The title of section "{section["key"]}"')
        for question in section["questions"]:
            key = question["key"]
            where = ("question", key)
            check(Question, "key", key, where, f'Question key "{key[:20]}…"')
            short_name = question.get("short_name")
            check(Question, "short_name", short_name, where, f'The short name of "{key}"')
            for choice in question.get("choices") or ():
                code = choice["code"]
                check(Choice, "code", code, where, f'A choice code of question "{key}"')
                check(Choice, "label", choice["label"], where, f'Choice "{code}" of "{key}"')
    for rule in document["rules"]:
        where = ("rule", rule["id"])
        check(Rule, "rule_id", rule["id"], where, f'Rule id "{rule["id"][:20]}…"')
        check(Rule, "flag", rule["flag"], where, f'The flag of rule "{rule["id"]}"')
    return problems


@transaction.atomic
def import_document(document: Any) -> QuestionSetVersion:
    """Create a new draft version from a JSON document; raises PublishError if it is invalid."""
    # Lengths only once the shape is known to be right: the check reads the document directly.
    problems = validate(document) or _too_long(document)
    if problems:
        raise PublishError(problems)
    meta = document["question_set"]
    question_set, _ = QuestionSet.objects.get_or_create(
        slug=meta["slug"],
        defaults={"title": meta["title"], "description": meta.get("description", "")},
    )
    version_meta = document.get("version") or {}
    version = QuestionSetVersion.objects.create(
        question_set=question_set,
        number=question_set.next_version_number(),
        label=version_meta.get("label", ""),
        notes=version_meta.get("notes", ""),
        advice=document.get("advice", []),
        sources=document.get("sources", {}),
        declarations=document.get("declarations", {}),
    )
    Parameter.objects.bulk_create(
        Parameter(
            version=version,
            name=name,
            value=spec["value"],
            description=spec.get("description", ""),
        )
        for name, spec in document.get("parameters", {}).items()
    )
    for section_position, section_data in enumerate(document["sections"]):
        section = Section.objects.create(
            version=version,
            position=section_position,
            key=section_data["key"],
            title=section_data["title"],
            intro=section_data.get("intro", ""),
        )
        for position, data in enumerate(section_data["questions"]):
            question = Question.objects.create(
                version=version,
                section=section,
                position=position,
                key=data["key"],
                text=data["text"],
                short_name=data.get("short_name") or "",
                help_text=data.get("help_text", ""),
                type=data["type"],
                required=data.get("required", True),
                show_if=data.get("show_if"),
                options={k: data[k] for k in QUESTION_OPTION_FIELDS if k in data},
            )
            Choice.objects.bulk_create(
                Choice(question=question, position=n, code=c["code"], label=c["label"])
                for n, c in enumerate(data.get("choices", []))
            )
    Rule.objects.bulk_create(
        Rule(
            version=version,
            position=position,
            rule_id=data["id"],
            flag=data["flag"],
            tier=data["tier"],
            temporary=data.get("temporary", False),
            when=data["when"],
            practitioner_message=data["practitioner_message"],
            patient_guidance=data.get("patient_guidance", ""),
            rule_sources=data.get("sources", []),
        )
        for position, data in enumerate(document["rules"])
    )
    return version
