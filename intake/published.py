"""What is worked out once per published version: the one owner of everything kept per version.

A published version never changes, so what follows from it alone is worked out once per process
and kept here, keyed by the version's content hash: its parsed questionnaire (definition, steps,
follow-up conditions) and whatever a side renders from it alone, such as the step pages that look
the same to every patient (intake/patient/pages.py). No other module keeps version data between
requests.

Entries are kept in one least-recently-used cache of at most `PUBLISHED_CACHE_SIZE` entries. A
content hash is in every key, so an entry never goes stale; settings changing (as tests do)
empty it, because pages show settings such as the clinic's name.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, cast

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from intake.models import QuestionSetVersion
from intake.models.question_sets import document_as_read
from intake.questionnaire import Questionnaire

_entries: OrderedDict[Hashable, Any] = OrderedDict()
_lock = threading.Lock()


class NotPublished(Exception):
    """Only a published version's questionnaire is kept; a draft's is read afresh each time."""


def questionnaire(version: QuestionSetVersion) -> Questionnaire:
    """The version's questionnaire, read from its frozen document the first time it is needed.

    The version may come without its (large) definition, as the patient's pages load it: the
    document is fetched only when this process has not read the version yet.
    """
    if not version.content_hash:
        raise NotPublished(f"{version} is a draft; only published versions are kept.")
    return remember(version, "questionnaire", lambda: _read(version))


def remember[T](version: QuestionSetVersion, key: Hashable, compute: Callable[[], T]) -> T:
    """What `compute()` gives for this published version and key, worked out once per process.

    `compute` must depend on nothing but the version and the key (and settings): never on a
    patient, a request or the time.
    """
    entry = (version.content_hash, key)
    with _lock:
        if entry in _entries:
            _entries.move_to_end(entry)
            return cast(T, _entries[entry])
    value = compute()
    with _lock:
        _entries[entry] = value
        while len(_entries) > settings.PUBLISHED_CACHE_SIZE:
            _entries.popitem(last=False)
    return value


def _read(version: QuestionSetVersion) -> Questionnaire:
    document = version.definition
    if document is None:
        raise NotPublished(f"{version} has no frozen document.")
    if "declarations" not in document:
        # Frozen before the format had declarations: read with those it was given since. They
        # are read here, not from `version`, which the patient's pages load without them.
        added = QuestionSetVersion.objects.filter(pk=version.pk).values_list(
            "declarations", flat=True
        )
        document = document_as_read(document, added.first() or {})
    return Questionnaire.from_document(document)


@receiver(setting_changed)
def forget_everything(**kwargs: Any) -> None:
    """Empty the cache when a setting changes (as tests do): pages may show settings."""
    with _lock:
        _entries.clear()
