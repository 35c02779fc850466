"""What an evaluation raises: flags, each with the answers it rests on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from intake.rules.definition import Tier


@dataclass(frozen=True, slots=True)
class Evidence:
    """An answer that made a flag's condition true, or unknown (`uncertain`)."""

    question_key: str
    question_text: str
    answer: Any
    uncertain: bool
    # A past event dated after the submission date, read as still ongoing: check the date.
    check_date: bool = False

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy."""
        return {
            "question_key": self.question_key,
            "question_text": self.question_text,
            "answer": self.answer,
            "uncertain": self.uncertain,
            "check_date": self.check_date,
        }


@dataclass(frozen=True, slots=True)
class RaisedFlag:
    """A raised flag: the winning rule among those sharing its code, with its evidence."""

    code: str
    tier: Tier
    provisional: bool
    temporary: bool
    rule_id: str
    practitioner_message: str
    patient_guidance: str
    sources: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    # What the question set declares about the flag (Declarations.for_flag): its plan, filters.
    declarations: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy."""
        return {
            "code": self.code,
            "tier": str(self.tier),
            "provisional": self.provisional,
            "temporary": self.temporary,
            "rule_id": self.rule_id,
            "practitioner_message": self.practitioner_message,
            "patient_guidance": self.patient_guidance,
            "sources": list(self.sources),
            "evidence": [item.as_dict() for item in self.evidence],
            "declarations": dict(self.declarations),
        }
