"""Personas as Character Card V2 JSON, to move them to and from other role-play tools.

``spec: "chara_card_v2"``, ``spec_version: "2.0"``; the card's ``data`` carries the fields
such tools read (name, description, personality, scenario, first_mes, mes_example, …) written
from the persona, and the whole persona under ``data.extensions.kasuhara``, so a card exported
here imports back to the same persona. A card made elsewhere has no training fields
(tactic ladder, demands, manual passage); importing it is refused with a message naming the
missing field rather than guessed.
"""

from __future__ import annotations

import json
from typing import Any

from simulator.errors import DataFileError
from simulator.library import validate_persona
from simulator.models import Persona

SPEC = "chara_card_v2"
SPEC_VERSION = "2.0"
EXTENSION = "kasuhara"


def _text(line: Any) -> str:
    return line if isinstance(line, str) else str(getattr(line, "text", line))


def to_card(persona: Persona) -> dict[str, Any]:
    c = persona.client
    demands = "\n".join(f"- {d.text}（不当な理由: {d.why_improper}）" for d in persona.demands)
    examples = []
    for stage in persona.tactic_ladder[:3]:
        for line in stage.lines.neutral[:1]:
            examples.append(f"<START>\n{{{{user}}}}: （受講者の返答）\n{{{{char}}}}: {_text(line)}")
    data = persona.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {
        "spec": SPEC,
        "spec_version": SPEC_VERSION,
        "data": {
            "name": f"{c.company} {c.role} {c.name}",
            "description": f"{persona.title}。{persona.background}",
            "personality": f"{persona.difficulty_label}の相手。{persona.scenario_label}。要求:\n{demands}",
            "scenario": f"{persona.setting}（受講者の立場: {persona.trainee_role}。対応の方法: {persona.channel}）",
            "first_mes": persona.opening_lines[0],
            "mes_example": "\n".join(examples),
            "creator_notes": (
                f"カスハラ対応ロールプレイ研修のペルソナ。マニュアル「{persona.manual_passage.section}」: "
                f"{persona.manual_passage.quote}"
            ),
            "system_prompt": "",
            "post_history_instructions": "",
            "alternate_greetings": list(persona.opening_lines[1:]),
            "tags": [persona.scenario.value, persona.difficulty.value, "kasuhara"],
            "creator": "kasuhara-simulator",
            "character_version": str(persona.version),
            "extensions": {EXTENSION: data},
        },
    }


def card_json(persona: Persona) -> str:
    return json.dumps(to_card(persona), ensure_ascii=False, indent=2) + "\n"


def is_card(data: Any) -> bool:
    return isinstance(data, dict) and data.get("spec") == SPEC


def persona_data_from_card(card: Any, source: str) -> dict[str, Any]:
    """The persona fields a card carries (validated by the caller)."""
    if not is_card(card):
        raise DataFileError(
            source, "spec", f"Character Card V2 ではありません（spec は {SPEC}）", "not a V2 card"
        )
    if str(card.get("spec_version")) != SPEC_VERSION:
        raise DataFileError(
            source,
            "spec_version",
            f"spec_version は {SPEC_VERSION} にしてください",
            "unsupported spec_version",
        )
    data = card.get("data")
    ext = data.get("extensions", {}).get(EXTENSION) if isinstance(data, dict) else None
    if not isinstance(ext, dict):
        raise DataFileError(
            source,
            f"data.extensions.{EXTENSION}",
            "訓練用の項目（要求・戦術の段階・マニュアルの一文など）がありません。"
            "このアプリで書き出したカードか、その項目を加えたカードを読み込んでください",
            "the card has no training fields",
        )
    return dict(ext)


def persona_from_card(card: Any, source: str = "card") -> Persona:
    return validate_persona(persona_data_from_card(card, source), source)
