"""The test suite's own shortcuts give what the slow way round gives."""

import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from recorded_rows import SKINPEN, RowRecorder, published_skinpen, recorded_times
from time_machine import travel

from intake.models import QuestionSetVersion, VersionStatus, import_document

pytestmark = pytest.mark.django_db


def rows_written_by(block: Callable[[], Any]) -> RowRecorder:
    """Every row `block` adds, recorded and then rolled back."""
    recorder = RowRecorder()
    with transaction.atomic():
        with recorder.recording():
            block()
        transaction.set_rollback(True)
    return recorder


def import_and_publish() -> None:
    version = import_document(json.loads(SKINPEN.read_text(encoding="utf-8")))
    version.install()


def comparable(recorder: RowRecorder) -> dict[str, list[dict[str, Any]]]:
    """The rows with their keys as positions (keys differ from copy to copy) and no times."""
    positions = {
        model: {row[model._meta.pk.attname]: n for n, row in enumerate(rows)}
        for model, rows in recorder.rows.items()
    }
    tables: dict[str, list[dict[str, Any]]] = {}
    for model, rows in recorder.rows.items():
        tables[model._meta.label] = []
        for row in rows:
            shown = {}
            for field in model._meta.concrete_fields:
                value = row[field.attname]
                if field.is_relation and field.related_model in positions and value is not None:
                    value = positions[field.related_model][value]
                elif field.primary_key:
                    value = positions[model][value]
                elif isinstance(value, datetime.datetime):
                    value = "a time"
                shown[field.attname] = value
            tables[model._meta.label].append(shown)
    return tables


def test_the_version_fixture_writes_the_rows_importing_and_publishing_skinpen_writes():
    # However the tests before this one ran, the fixture has recorded a real import by now.
    rows_written_by(published_skinpen)

    real = rows_written_by(import_and_publish)
    queries = CaptureQueriesContext(connection)

    def copy() -> None:
        with queries:
            published_skinpen()

    copied = rows_written_by(copy)

    assert comparable(copied) == comparable(real)
    assert {model._meta.model_name for model in real.rows} >= {"questionsetversion", "question"}
    # One insert a table, and a few look-ups.
    assert len(queries) <= len(real.rows) + 3, [q["sql"][:80] for q in queries]


def test_copied_rows_have_the_time_they_were_copied():
    with travel(datetime.datetime(2020, 1, 1, 12, tzinfo=datetime.UTC), tick=True):
        recorder = rows_written_by(import_and_publish)
    started = timezone.now()

    copied = rows_written_by(recorder.write)

    times = recorded_times(copied)
    assert len(times) == len(recorded_times(recorder)) > 0
    assert max(times) >= started
    assert all(started - datetime.timedelta(minutes=5) < time <= timezone.now() for time in times)


def test_the_version_fixture_gives_the_published_skinpen_set(version):
    fresh = QuestionSetVersion.objects.get(pk=version.pk)

    assert fresh.status == VersionStatus.PUBLISHED
    assert fresh.question_set.slug == "skinpen"
    assert fresh.definition == json.loads(SKINPEN.read_text(encoding="utf-8"))
    assert fresh.question_set.latest_published() == fresh


def test_with_skinpen_already_there_the_version_fixture_imports_a_new_version():
    first = published_skinpen()
    second = published_skinpen()

    assert (first.number, second.number) == (1, 2)
    assert second.question_set == first.question_set
    assert second.status == VersionStatus.PUBLISHED
