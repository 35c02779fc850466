"""The app's models, by topic: staff accounts, question sets, and the patient intake."""

from intake.models.accounts import User
from intake.models.question_sets import (
    DOCUMENT_FORMAT,
    Choice,
    FrozenVersionError,
    Parameter,
    PublishError,
    Question,
    QuestionSet,
    QuestionSetVersion,
    QuestionType,
    Rule,
    Section,
    Tier,
    VersionStatus,
    content_hash,
    import_document,
)

__all__ = [
    "DOCUMENT_FORMAT",
    "Choice",
    "FrozenVersionError",
    "Parameter",
    "PublishError",
    "Question",
    "QuestionSet",
    "QuestionSetVersion",
    "QuestionType",
    "Rule",
    "Section",
    "Tier",
    "User",
    "VersionStatus",
    "content_hash",
    "import_document",
]
