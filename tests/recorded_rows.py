"""Rows written once by slow code, recorded, and written again quickly: see published_skinpen."""

import contextlib
import copy
import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db.models import Model
from factories import publish_approved

SKINPEN = Path(__file__).resolve().parent.parent / "intake" / "question_sets" / "skinpen.json"


def published_skinpen() -> Any:
    """Import and publish SkinPen, or write again the rows that doing so wrote earlier.

    The first SkinPen of a test's database is installed (published, awaiting a medical lead's
    approval), as `load_question_set --publish` does on a fresh installation; a second is
    approved and published as the two-person rule has it.

    Importing saves one question at a time (each save checking that its version is a draft):
    nearly 300 queries, most of the set-up time of hundreds of tests. So the first import of a
    test run is recorded, and later ones write the same rows with one insert per table, under
    new keys and with their times moved to now. tests/test_fixtures.py checks that the copy
    matches a real import. Where SkinPen is already in the database, it is imported for real.
    """
    from intake.models import QuestionSet, QuestionSetVersion, import_document

    document = json.loads(SKINPEN.read_text(encoding="utf-8"))
    if QuestionSet.objects.filter(slug=document["question_set"]["slug"]).exists():
        version = import_document(document)
        publish_approved(version)
        return version
    if _SKINPEN_ROWS.recorded:
        keys = _SKINPEN_ROWS.write()
        return QuestionSetVersion.objects.get(pk=keys[QuestionSetVersion][_SKINPEN_ROWS.key])
    with _SKINPEN_ROWS.recording():
        version = import_document(document)
        version.install()  # the first version, as a fresh installation has it
        _SKINPEN_ROWS.key = version.pk
    return version


class RowRecorder:
    """The rows a block of code adds to every table, to be written again later.

    `key` is for the caller: the key of the block's main row, to find its copy among the rows.
    """

    def __init__(self) -> None:
        self.rows: dict[type[Model], list[dict[str, Any]]] = {}
        self.recorded = False
        self.key: Any = None

    @contextlib.contextmanager
    def recording(self) -> Iterator[None]:
        from django.apps import apps

        models = [
            m
            for m in apps.get_models(include_auto_created=True)
            if m._meta.managed and not m._meta.proxy
        ]
        before = {m: set(m._base_manager.values_list("pk", flat=True)) for m in models}
        yield
        for model in models:
            added = model._base_manager.exclude(pk__in=before[model]).order_by("pk").values()
            if added:
                self.rows[model] = list(added)
        self.recorded = True

    def write(self) -> dict[type[Model], dict[Any, Any]]:
        """Insert the recorded rows again, under new keys, as if written now.

        Every time moves on by the same amount, so that the latest is now. Returns each table's
        old keys mapped to the new ones.
        """
        from django.utils import timezone

        assert self.recorded
        latest = max(recorded_times(self), default=None)
        moved = timezone.now() - latest if latest else datetime.timedelta(0)
        new_keys: dict[type[Model], dict[Any, Any]] = {}
        for model in self._parents_first():
            pk = model._meta.pk
            assert pk is not None
            objects = []
            for row in copy.deepcopy(self.rows[model]):
                values = {}
                for field in model._meta.concrete_fields:
                    value = row[field.attname]
                    target = field.related_model if field.is_relation else None
                    if field.primary_key:
                        value = None
                    elif target in self.rows and value is not None:
                        value = new_keys[target][value]  # type: ignore[index]
                    elif isinstance(value, datetime.datetime):
                        value += moved
                    values[field.attname] = value
                objects.append(model(**values))
            created = model._base_manager.bulk_create(objects)
            new_keys[model] = {
                row[pk.attname]: obj.pk for row, obj in zip(self.rows[model], created, strict=True)
            }
        return new_keys

    def _parents_first(self) -> list[type[Model]]:
        """The recorded tables, each after every recorded table it refers to."""
        order: list[type[Model]] = []
        waiting = list(self.rows)
        while waiting:
            for model in waiting:
                if any(f.related_model is model for f in model._meta.concrete_fields):
                    raise AssertionError(f"{model} refers to itself; its rows cannot be copied.")
            ready = [
                model
                for model in waiting
                if not any(
                    field.related_model in waiting
                    for field in model._meta.concrete_fields
                    if field.is_relation
                )
            ]
            assert ready, f"Tables that refer to each other: {waiting}"
            order += ready
            waiting = [model for model in waiting if model not in ready]
        return order


def recorded_times(recorder: RowRecorder) -> list[datetime.datetime]:
    return [
        value
        for rows in recorder.rows.values()
        for row in rows
        for value in row.values()
        if isinstance(value, datetime.datetime)
    ]


_SKINPEN_ROWS = RowRecorder()
