"""The shipped personas and rubric validate; broken files give errors that name file and field."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from simulator.library import (
    SCHEMA_MODELINE,
    SCHEMAS,
    data_files,
    load_persona,
    load_personas,
    render_schema,
)
from simulator.models import Difficulty, Reaction, ScenarioId
from simulator.paths import PERSONAS_DIR, ROOT, RUBRICS_DIR


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def test_personas_validate_exits_zero() -> None:
    r = cli("personas", "validate")
    assert r.returncode == 0, r.stderr


def test_rubrics_validate_exits_zero() -> None:
    r = cli("rubrics", "validate")
    assert r.returncode == 0, r.stderr


def test_list_json_covers_every_scenario_at_both_difficulties() -> None:
    r = cli("personas", "list", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) >= 14
    for row in rows:
        assert {"id", "scenario", "difficulty", "channel", "title"} <= row.keys()
    pairs = Counter((row["scenario"], row["difficulty"]) for row in rows)
    for s in ScenarioId:
        for d in Difficulty:
            assert pairs[(s.value, d.value)] >= 1, f"no persona for {s.value}/{d.value}"


def test_personas_are_distinct_people_and_companies() -> None:
    ps = list(load_personas().values())
    assert len({p.client.company for p in ps}) == len(ps)
    assert len({p.client.name for p in ps}) == len(ps)
    assert len({p.client.industry for p in ps}) >= 12


@pytest.mark.parametrize("path", data_files(PERSONAS_DIR), ids=lambda p: p.stem)
def test_scripted_lines_cover_every_stage_reaction_and_move(path: Path) -> None:
    from simulator.library import persona_lines
    from simulator.models import REQUIRED_ANSWERS

    persona = load_persona(path)
    for stage in persona.tactic_ladder:
        for reaction in Reaction:
            lines = getattr(stage.lines, reaction.value)
            assert len(lines) >= 3, f"{stage.name}/{reaction.value}"
            assert any(not ln.conditional for ln in lines), (
                f"{stage.name}/{reaction.value}: no line fits any moment"
            )
        for move in REQUIRED_ANSWERS:
            assert stage.answers.get(move), f"{stage.name}: nothing answers {move}"
    # The voice never repeats a line: lines under different keys must differ too.
    texts = [ln.text for _, ln in persona_lines(persona)]
    assert len(set(texts)) == len(texts), "the same line appears under two keys"


@pytest.mark.parametrize("path", [*data_files(PERSONAS_DIR), *data_files(RUBRICS_DIR)], ids=lambda p: p.name)
def test_every_data_file_references_its_schema(path: Path) -> None:
    assert path.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_MODELINE


@pytest.mark.parametrize("schema_path", list(SCHEMAS), ids=lambda p: p.parent.name)
def test_schema_files_are_up_to_date(schema_path: Path) -> None:
    model, title = SCHEMAS[schema_path]
    assert schema_path.read_text(encoding="utf-8") == render_schema(model, title), (
        "run `python -m simulator schema`"
    )


def _broken_copy(tmp_path: Path, mutate) -> Path:  # type: ignore[no-untyped-def]
    src = data_files(PERSONAS_DIR)[0]
    data = yaml.safe_load(src.read_text(encoding="utf-8"))
    mutate(data)
    out = tmp_path / src.name
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return out


def test_wrong_field_type_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda d: d.__setitem__("minutes_per_turn", "たくさん"))
    r = cli("personas", "validate", str(path))
    assert r.returncode == 2
    assert str(path) in r.stderr
    assert "minutes_per_turn" in r.stderr
    assert "数値で書いてください" in r.stderr


def test_nested_field_path_is_named(tmp_path: Path) -> None:
    def drop(d: dict) -> None:  # type: ignore[type-arg]
        del d["tactic_ladder"][1]["lines"]["hostile"]

    path = _broken_copy(tmp_path, drop)
    r = cli("personas", "validate", str(path))
    assert r.returncode == 2
    assert "tactic_ladder[1].lines.hostile" in r.stderr
    assert "必須の項目がありません" in r.stderr


def test_unknown_field_is_an_error(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda d: d.__setitem__("dificulty", "hard"))
    r = cli("personas", "validate", str(path))
    assert r.returncode == 2
    assert "dificulty" in r.stderr and "定義されていない項目です" in r.stderr


def test_bad_scenario_value_is_named(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda d: d.__setitem__("scenario", "rudeness"))
    r = cli("personas", "validate", str(path))
    assert r.returncode == 2 and "scenario" in r.stderr and "使える値ではありません" in r.stderr


def test_misquoted_manual_passage_is_rejected(tmp_path: Path) -> None:
    path = _broken_copy(
        tmp_path, lambda d: d["manual_passage"].__setitem__("quote", "マニュアルにない文です。")
    )
    r = cli("personas", "validate", str(path))
    assert r.returncode == 2 and "manual_passage.quote" in r.stderr


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\ntitle: [unclosed\n", encoding="utf-8")
    r = cli("personas", "validate", str(path))
    assert r.returncode == 2 and "broken.yaml" in r.stderr and "行目" in r.stderr


def test_broken_rubric_names_field(tmp_path: Path) -> None:
    src = RUBRICS_DIR / "default.yaml"
    data = yaml.safe_load(src.read_text(encoding="utf-8"))
    data["version"] = "二"
    out = tmp_path / "default.yaml"
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    r = cli("rubrics", "validate", str(out))
    assert r.returncode == 2 and "version" in r.stderr and "整数で書いてください" in r.stderr


def test_duplicate_line_is_named(tmp_path: Path) -> None:
    def dup(d: dict) -> None:  # type: ignore[type-arg]
        d["tactic_ladder"][1]["lines"]["neutral"][0] = d["tactic_ladder"][0]["lines"]["hostile"][0]

    path = _broken_copy(tmp_path, dup)
    r = cli("personas", "validate", str(path))
    assert r.returncode == 2
    assert "tactic_ladder[1].lines.neutral[0]" in r.stderr and "tactic_ladder[0].lines.hostile[0]" in r.stderr


def test_the_studio_passage_picker_offers_every_sentence_a_persona_quotes() -> None:
    from simulator.library import manual_passages, personas, quote_in_manual

    passages = manual_passages()
    quotes = {q for _h, q in passages}
    assert all(p.manual_passage.quote in quotes for p in personas().values())
    assert all(quote_in_manual(q) for q in quotes) and len(passages) > 100
    sections = {h for h, q in passages if q == "「無料で追加対応しろ」と不当な要求をされる。"}
    assert sections == {"2. 契約外の対応要求"}, "each sentence comes with the section it stands under"
