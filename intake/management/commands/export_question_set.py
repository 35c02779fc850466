import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from intake.models import QuestionSet


class Command(BaseCommand):
    help = "Print a question-set version as its JSON document (the latest published by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="Question set slug, e.g. skinpen")
        parser.add_argument("--number", type=int, help="Version number (default: latest published)")

    def handle(self, *args: Any, slug: str, number: int | None, **options: Any) -> None:
        question_set = QuestionSet.objects.filter(slug=slug).first()
        if question_set is None:
            raise CommandError(f"No question set with the slug {slug!r}.")
        if number is None:
            version = question_set.latest_published()
        else:
            version = question_set.versions.filter(number=number).first()
        if version is None:
            raise CommandError(f"{question_set} has no such version.")
        self.stdout.write(json.dumps(version.to_document(), indent=2, ensure_ascii=False))
