import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from intake.models import (
    PublishError,
    QuestionSet,
    QuestionSetVersion,
    VersionStatus,
    content_hash,
    import_document,
)
from intake.rules.cases import CaseFileError, parse_cases


class Command(BaseCommand):
    help = (
        "Import a question-set JSON document as a new draft version. With --publish, the first "
        "version of a question set is installed: published at once and marked as awaiting a "
        "medical lead's approval. Where a version is already published, --publish leaves the "
        "new one as a draft submitted for approval instead: a medical lead approves it and a "
        "clinic admin publishes it. Does nothing if the file matches the published version or "
        "a draft already awaiting approval."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="Path to the question-set JSON document")
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Install the first version, or submit a changed one for approval",
        )
        parser.add_argument(
            "--cases", type=Path, help="Test cases to keep with the version (run on publishing)"
        )

    def handle(
        self, *args: Any, path: Path, publish: bool, cases: Path | None, **options: Any
    ) -> None:
        document = _read_json(path)
        test_cases = [] if cases is None else _read_json(cases)
        try:
            parse_cases(test_cases)
        except CaseFileError as error:
            raise CommandError(f"{cases}: {error}") from None

        with transaction.atomic():
            try:
                version = import_document(document)
            except PublishError as error:
                raise CommandError(f"{path} cannot be imported:\n{error}") from None
            version.test_cases = test_cases
            version.save(update_fields=["test_cases"])
            incomplete = version.incomplete_cases()
            if incomplete:
                problems = "\n".join(problem.message for problem in incomplete)
                raise CommandError(f"{cases} cannot be kept with {path}:\n{problems}")
            question_set = QuestionSet.objects.get(pk=version.question_set_id)
            current = question_set.latest_published()
            normalised = version.to_document()
            if current is not None and current.content_hash == content_hash(normalised):
                transaction.set_rollback(True)
                self.stdout.write(f"{current} is already up to date; nothing to do.")
                return
            # Installed only if no version of the set was ever published (all retired is not new).
            first = not question_set.versions.exclude(status=VersionStatus.DRAFT).exists()
            waiting = question_set.versions.filter(
                status=VersionStatus.DRAFT, submitted_hash=version.approval_hash(normalised)
            ).first()
            if not first and waiting is not None:
                transaction.set_rollback(True)
                self.stdout.write(f"{waiting} is already awaiting approval; nothing to do.")
                return
            try:
                state = self._publish(version, first=first) if publish else ""
            except PublishError as error:
                raise CommandError(f"{version} cannot be published:\n{error}") from None
        self.stdout.write(self.style.SUCCESS(f"{version} {state or 'created as a draft'}."))

    def _publish(self, version: QuestionSetVersion, *, first: bool) -> str:
        if first:
            version.install()
            return "installed, awaiting medical-lead approval"
        version.submit_for_approval(by=None)
        return (
            "created and submitted for approval: a medical lead approves it in the admin, "
            "then a clinic admin publishes it"
        )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
    except json.JSONDecodeError as error:
        raise CommandError(f"{path} is not valid JSON: {error}.") from None
