import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from intake import published
from intake.models import QuestionSet
from intake.rules.cases import CaseFileError, parse_cases, run_case


class Command(BaseCommand):
    help = (
        "Evaluate rule test cases against the latest published version of a question set. "
        "Prints one line per case and exits 1 if any case fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="Question set slug, e.g. skinpen")
        parser.add_argument("cases", type=Path, help="Path to a JSON cases file")

    def handle(self, *args: Any, slug: str, cases: Path, **options: Any) -> None:
        question_set = QuestionSet.objects.filter(slug=slug).first()
        if question_set is None:
            raise CommandError(f"No question set with the slug {slug!r}.")
        version = question_set.latest_published()
        if version is None:
            raise CommandError(f"{question_set} has no published version.")
        try:
            parsed = parse_cases(json.loads(cases.read_text(encoding="utf-8")))
        except OSError as error:
            raise CommandError(f"Cannot read {cases}: {error.strerror}.") from None
        except json.JSONDecodeError as error:
            raise CommandError(f"{cases} is not valid JSON: {error}.") from None
        except CaseFileError as error:
            raise CommandError(f"{cases}: {error}") from None

        definition = published.questionnaire(version).definition
        results = [run_case(definition, case) for case in parsed]
        for result in results:
            style = self.style.SUCCESS if result.passed else self.style.ERROR
            self.stdout.write(style(result.describe()))
        failed = sum(not result.passed for result in results)
        self.stdout.write(f"{len(results) - failed} passed, {failed} failed ({version})")
        if failed:
            raise SystemExit(1)
