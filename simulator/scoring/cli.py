"""``python -m simulator score``: score a JSON Lines file of replies."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from pydantic import ValidationError

from simulator.models import Assessment, ContextLine, Rubric, ScenarioId

EXIT_OK = 0
EXIT_BAD_DATA = 2


class BadRecord(ValueError):
    """An input line that is not a usable record; the message names the line."""


def parse_record(line: str, lineno: int) -> dict[str, Any]:
    """One LABELING.md record (``labels`` and ``note`` are ignored)."""
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as e:
        raise BadRecord(
            f"{lineno}行目: JSON として読めません / line {lineno}: invalid JSON ({e.msg})"
        ) from None
    if not isinstance(rec, dict):
        raise BadRecord(f"{lineno}行目: オブジェクトではありません / line {lineno}: not a JSON object")
    reply = rec.get("reply")
    if not isinstance(reply, str):
        raise BadRecord(f"{lineno}行目: reply（文字列）がありません / line {lineno}: missing string 'reply'")
    try:
        scenario = ScenarioId(str(rec.get("scenario")))
    except ValueError:
        raise BadRecord(
            f"{lineno}行目: scenario「{rec.get('scenario')}」は不明です / line {lineno}: unknown scenario"
        ) from None
    raw_ctx = rec.get("context", [])
    try:
        if not isinstance(raw_ctx, list):
            raise TypeError
        context = [ContextLine.model_validate(c) for c in raw_ctx]
    except (ValidationError, TypeError):
        raise BadRecord(
            f"{lineno}行目: context は role/text の一覧にしてください / line {lineno}: bad 'context'"
        ) from None
    return {"id": rec.get("id", lineno), "scenario": scenario, "context": context, "reply": reply}


def read_records(path: str) -> list[dict[str, Any]]:
    """All records of a JSONL file; blank lines are skipped. Raises BadRecord."""
    out = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                out.append(parse_record(line, lineno))
    return out


def _assess_llm(judge: Any, rec: dict[str, Any], rubric: Rubric, fallback: Any) -> Assessment:
    from simulator.errors import LLMUnavailable

    try:
        return judge.assess(rec["reply"], rec["context"], rec["scenario"], rubric)  # type: ignore[no-any-return]
    except LLMUnavailable as e:
        why = str(e) or "LLM unavailable"
    except Exception as e:  # the LLM judge is another component; any failure falls back
        why = f"{type(e).__name__}: {e}"
    a: Assessment = fallback.assess(rec["reply"], rec["context"], rec["scenario"], rubric)
    a.notes.append(
        f"LLM 判定器が使えないため オフラインの判定器で判定しました / LLM judge unavailable, used the offline judge ({why})"
    )
    return a


@contextmanager
def _open_out(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdout
    else:
        with open(path, "w", encoding="utf-8") as f:
            yield f


def run_score(in_path: str, out_path: str, judge: str) -> int:
    from simulator.library import get_rubric
    from simulator.scoring import default_judge, get_judge, rule_judge

    try:
        records = read_records(in_path)
    except BadRecord as e:
        print(str(e), file=sys.stderr)
        return EXIT_BAD_DATA
    except (OSError, UnicodeDecodeError) as e:
        print(f"{in_path}: 読み込めません / cannot read ({e})", file=sys.stderr)
        return EXIT_BAD_DATA
    rubric = get_rubric()
    rules = rule_judge() if judge == "rules" else default_judge()
    llm: Any = None
    llm_error = ""
    if judge in ("llm", "both"):
        try:
            llm = get_judge("llm")
        except Exception as e:  # missing module or settings: every record falls back
            llm_error = f"{type(e).__name__}: {e}"
    with _open_out(out_path) as out:
        for rec in records:
            rule_a = rules.assess(rec["reply"], rec["context"], rec["scenario"], rubric)
            row: dict[str, Any] = {"id": rec["id"], "scores": rule_a.score_map()}
            if judge in ("rules", "hybrid"):
                row["assessment"] = rule_a.model_dump(mode="json")
            else:
                if llm is not None:
                    llm_a = _assess_llm(llm, rec, rubric, rules)
                else:
                    llm_a = rule_a.model_copy(deep=True)
                    llm_a.notes.append(
                        f"LLM 判定器が使えないため オフラインの判定器で判定しました / LLM judge unavailable, used rules ({llm_error})"
                    )
                if judge == "llm":
                    row["scores"] = llm_a.score_map()
                    row["assessment"] = llm_a.model_dump(mode="json")
                else:
                    row["assessments"] = [rule_a.model_dump(mode="json"), llm_a.model_dump(mode="json")]
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return EXIT_OK
