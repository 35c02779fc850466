"""What is worked out per published version is worked out once per process, within one bound."""

import pytest
from django.test import override_settings
from factories import publish_approved

from intake import published
from intake.models import QuestionSetVersion, import_document

pytestmark = pytest.mark.django_db


def without_document(version: QuestionSetVersion) -> QuestionSetVersion:
    """The version as the patient's pages load it: its content hash, not its large JSON."""
    return QuestionSetVersion.objects.only("id", "number", "content_hash").get(pk=version.pk)


@override_settings(PUBLISHED_CACHE_SIZE=8)  # and an empty cache to start with
def test_a_published_version_is_read_once_then_kept(version, django_assert_num_queries):
    light, again = without_document(version), without_document(version)
    with django_assert_num_queries(1):  # its frozen document, the first time
        first = published.questionnaire(light)
    with django_assert_num_queries(0):
        assert published.questionnaire(again) is first
    assert [step.kind for step in first.steps][:2] == ["details", "section"]


def test_the_cache_holds_at_most_its_setting_and_lets_the_oldest_go(version):
    other = version.new_draft()
    other.label = "another"
    other.save()
    publish_approved(other)
    with override_settings(PUBLISHED_CACHE_SIZE=1):
        first = published.questionnaire(version)
        published.questionnaire(other)
        # Only one entry fits: the first version's questionnaire was let go, and is read again.
        assert published.questionnaire(version) is not first
        assert published.questionnaire(version) is published.questionnaire(version)


def test_a_settings_change_empties_the_cache(version):
    first = published.questionnaire(version)
    with override_settings(CLINIC_NAME="Another clinic"):
        assert published.questionnaire(version) is not first


def test_a_draft_is_never_kept(make_document):
    with pytest.raises(published.NotPublished):
        published.questionnaire(import_document(make_document()))
