import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from intake.models import PublishError, QuestionSet, content_hash, import_document
from intake.rules.cases import CaseFileError, parse_cases


class Command(BaseCommand):
    help = (
        "Import a question-set JSON document as a new draft version, and publish it with "
        "--publish. Does nothing if the latest published version already has the same content."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="Path to the question-set JSON document")
        parser.add_argument("--publish", action="store_true", help="Publish the new version")
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
            current = QuestionSet.objects.get(pk=version.question_set_id).latest_published()
            normalised = version.to_document()
            if current is not None and current.content_hash == content_hash(normalised):
                transaction.set_rollback(True)
                self.stdout.write(f"{current} is already up to date; nothing to do.")
                return
            if publish:
                try:
                    version.publish()
                except PublishError as error:
                    raise CommandError(f"{version} cannot be published:\n{error}") from None
        state = "published" if publish else "created as a draft"
        self.stdout.write(self.style.SUCCESS(f"{version} {state}."))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
    except json.JSONDecodeError as error:
        raise CommandError(f"{path} is not valid JSON: {error}.") from None
