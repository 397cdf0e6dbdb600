"""Load and validate the persona and rubric files, and write their JSON Schemas."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from simulator.errors import DataFileError
from simulator.models import EVENT_FACTS, REQUIRED_ANSWERS, Line, Persona, Reaction, Rubric
from simulator.paths import MANUAL_PATH, PERSONAS_DIR, RUBRICS_DIR
from simulator.text import whole_characters

M = TypeVar("M", bound=BaseModel)

SCHEMA_FILE = "schema.json"
SCHEMA_MODELINE = "# yaml-language-server: $schema=./schema.json"
DEFAULT_RUBRIC_ID = "default"

_JA_PROBLEMS = {
    "missing": "必須の項目がありません",
    "extra_forbidden": "定義されていない項目です",
    "string_type": "文字列で書いてください",
    "int_type": "整数で書いてください",
    "int_parsing": "整数で書いてください",
    "float_type": "数値で書いてください",
    "float_parsing": "数値で書いてください",
    "bool_type": "true か false で書いてください",
    "bool_parsing": "true か false で書いてください",
    "list_type": "リスト（- で始まる行）で書いてください",
    "dict_type": "項目の集まり（キー: 値）で書いてください",
    "model_type": "項目の集まり（キー: 値）で書いてください",
    "too_short": "要素が足りません",
    "too_long": "要素が多すぎます",
    "string_too_short": "空にはできません",
    "enum": "使える値ではありません",
    "literal_error": "使える値ではありません",
    "string_pattern_mismatch": "使えない文字が含まれています（英小文字・数字・_ のみ）",
    "greater_than_equal": "値が小さすぎます",
    "less_than_equal": "値が大きすぎます",
    "value_error": "値が正しくありません",
}


def _field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(ファイル全体)"


def _from_validation_error(path: Path, err: ValidationError) -> DataFileError:
    errors = err.errors()
    first = errors[0]
    loc = tuple(p for p in first["loc"] if p not in ("function-after",))
    ja = _JA_PROBLEMS.get(first["type"], "値が正しくありません")
    en = first["msg"]
    if first["type"] == "value_error":
        ja = f"{ja}（{first['msg'].removeprefix('Value error, ')}）"
    elif "input" in first and first["type"] not in ("missing",):
        shown = repr(first["input"])
        if len(shown) > 60:
            shown = shown[:57] + "..."
        ja = f"{ja}（入力: {shown}）"
    if len(errors) > 1:
        ja += f"（ほか {len(errors) - 1} 件）"
        en += f" (+{len(errors) - 1} more)"
    return DataFileError(path, _field_path(loc), ja, en)


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(path, "", "ファイルが見つかりません", "file not found") from None
    except UnicodeDecodeError:
        raise DataFileError(path, "", "UTF-8 で保存してください", "not UTF-8 text") from None
    return parse_yaml_text(text, str(path))


def load_model(path: Path, model: type[M]) -> M:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise DataFileError(
            path, "", "項目の集まり（キー: 値）である必要があります", "top level must be a mapping"
        )
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise _from_validation_error(path, e) from None


@lru_cache(maxsize=1)
def manual_text() -> str:
    return MANUAL_PATH.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def manual_passages() -> list[tuple[str, str]]:
    """The manual as (section heading, sentence) pairs, for the studio's passage picker. The
    manual's lines are wrapped mid-sentence (and mid-bullet), so text is joined until a
    sentence ends, a bullet or a numbered item starts, or a heading comes."""
    out: list[tuple[str, str]] = []
    heading = ""
    buf = ""

    def flush() -> None:
        nonlocal buf
        for sent in re.findall(r"[^。]+。?", buf):
            sent = sent.strip()
            if len(sent) >= 8:
                out.append((heading, sent))
        buf = ""

    prev = 0  # the previous line's length: a line cut at the wrap width (about 40) continues
    for raw in manual_text().splitlines():
        line = raw.strip()
        if not line:
            continue
        between = not buf or buf.endswith("。") or prev < 36
        prev = len(line)
        numbered = re.match(r"^(\d+\.|◇|【)\s*", line)
        if (
            between
            and len(line) <= 32
            and (numbered or "。" not in line)
            and not line.startswith(("•", "・", "●"))
        ):
            flush()
            heading = line.rstrip("。")
            continue
        if line.startswith(("•", "・", "●")) or numbered:
            flush()
            buf = re.sub(r"^([•・●]|\d+\.)\s*", "", line)
        else:
            buf += line
    flush()
    return [(h, q) for h, q in out if quote_in_manual(q)]


def _squash(text: str) -> str:
    return re.sub(r"[\s　「」]+", "", unicodedata.normalize("NFKC", text))


@lru_cache(maxsize=1)
def _squashed_manual() -> str:
    return _squash(manual_text())


def quote_in_manual(quote: str) -> bool:
    """True when the quote occurs in the manual, ignoring line breaks and width."""
    return _squash(quote) in _squashed_manual()


# libyaml's safe loader reads the same YAML about ten times faster than PyYAML's own (start-up
# reads every persona, the rubric and the lexicon)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml_text(text: str) -> Any:
    """YAML read safely (``yaml.YAMLError`` as PyYAML raises it), in whole characters: a
    ``"\\ud83d\\ude47"`` escape gives the two halves of a pair in YAML (``text.whole_characters``)."""
    text = whole_characters(text)  # libyaml raises UnicodeEncodeError on one, not a YAMLError
    return whole_characters(yaml.load(text, Loader=_SAFE_LOADER))  # noqa: S506 - a safe loader


def parse_yaml_text(text: str, source: str) -> Any:
    """YAML from a string (a persona written in the studio or imported), errors naming ``source``."""
    try:
        return load_yaml_text(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{mark.line + 1}行目" if mark else ""
        line_en = f"line {mark.line + 1}" if mark else ""
        raise DataFileError(
            source, where, f"YAML として読めません（{getattr(e, 'problem', e)}）", f"invalid YAML {line_en}"
        ) from None


def validate_persona(data: Any, source: str) -> Persona:
    """The one persona validator (files, the studio, imports, ``personas validate``): the model,
    the lines' conditions and the manual quote; a problem names ``source`` and the field."""
    if not isinstance(data, dict):
        raise DataFileError(
            source, "", "項目の集まり（キー: 値）である必要があります", "top level must be a mapping"
        )
    try:
        persona = Persona.model_validate(data)
    except ValidationError as e:
        raise _from_validation_error(Path(source), e) from None
    check_lines(Path(source), persona)
    if not quote_in_manual(persona.manual_passage.quote):
        raise DataFileError(
            source,
            "manual_passage.quote",
            "マニュアルにこの一文が見つかりません（原文のまま引用してください）",
            "quote not found in the manual",
        )
    return persona


def persona_problems(text: str, source: str = "studio") -> list[tuple[str, str]]:
    """Every problem of a persona text as (field, Japanese message), for live validation in
    the studio: all model errors at once, else the first line or manual-quote problem."""
    try:
        data = parse_yaml_text(text, source)
    except DataFileError as e:
        return [(e.field, e.problem_ja)]
    if not isinstance(data, dict):
        return [("", "項目の集まり（キー: 値）である必要があります")]
    try:
        Persona.model_validate(data)
    except ValidationError as err:
        out = []
        for detail in err.errors():
            single = ValidationError.from_exception_data(err.title, [detail])  # type: ignore[list-item]
            one = _from_validation_error(Path(source), single)
            out.append((one.field, one.problem_ja))
        return out
    try:
        validate_persona(data, source)
    except DataFileError as e:
        return [(e.field, e.problem_ja)]
    return []


def parse_persona(text: str, source: str = "persona") -> Persona:
    return validate_persona(parse_yaml_text(text, source), source)


def load_persona(path: Path) -> Persona:
    persona = load_model(path, Persona)
    if persona.id != path.stem:
        raise DataFileError(
            path,
            "id",
            f"id「{persona.id}」はファイル名「{path.stem}」と同じにしてください",
            f"id {persona.id!r} must equal the file name {path.stem!r}",
        )
    check_lines(path, persona)
    if not quote_in_manual(persona.manual_passage.quote):
        raise DataFileError(
            path,
            "manual_passage.quote",
            "マニュアルにこの一文が見つかりません（原文のまま引用してください）",
            "quote not found in the manual",
        )
    return persona


def persona_lines(persona: Persona) -> list[tuple[str, Line]]:
    """Every line a persona can speak after its opening, with the field it is written in."""
    out: list[tuple[str, Line]] = []
    for i, stage in enumerate(persona.tactic_ladder):
        for reaction in Reaction:
            for j, line in enumerate(getattr(stage.lines, reaction.value)):
                out.append((f"tactic_ladder[{i}].lines.{reaction.value}[{j}]", line))
        for move, lines in stage.answers.items():
            for j, line in enumerate(lines):
                out.append((f"tactic_ladder[{i}].answers.{move}[{j}]", line))
    for outcome in type(persona.closing_lines).model_fields:
        for j, line in enumerate(getattr(persona.closing_lines, outcome)):
            out.append((f"closing_lines.{outcome}[{j}]", line))
    return out


def check_lines(path: Path, persona: Persona) -> None:
    """No line twice (a session never repeats one); every fact a line names is known; every
    pool the voice may fall back on has a line without conditions."""
    from simulator.dialogue import known_fact

    lines = persona_lines(persona)
    seen: dict[str, str] = {}
    for where, line in lines:
        if line.text in seen:
            raise DataFileError(
                path,
                where,
                f"同じ台詞が {seen[line.text]} にもあります（1セッションで同じ台詞は繰り返しません）",
                f"duplicate line, also at {seen[line.text]}",
            )
        seen[line.text] = where
    own = {f for _, line in lines for f in line.sets}
    for where, line in lines:
        for field in ("requires", "unless", "sets"):
            for k, fact in enumerate(getattr(line, field)):
                if field == "sets" and fact in EVENT_FACTS:
                    raise DataFileError(
                        path,
                        f"{where}.sets[{k}]",
                        f"「{fact}」は会話から決まる事実です。sets にはペルソナ独自の名前を使ってください",
                        f"{fact!r} is derived from the dialogue; sets takes the persona's own fact names",
                    )
                if field != "sets" and not known_fact(fact, persona, own):
                    raise DataFileError(
                        path,
                        f"{where}.{field}[{k}]",
                        f"事実「{fact}」は定義されていません（使える事実: 会話の事実、要求ごとの"
                        "made/granted/refused/deferred/pending:<要求ID>、台詞の sets で立てた名前）",
                        f"unknown fact {fact!r}",
                    )
    for i, stage in enumerate(persona.tactic_ladder):
        missing = [m for m in REQUIRED_ANSWERS if m not in stage.answers]
        if missing:
            raise DataFileError(
                path,
                f"tactic_ladder[{i}].answers",
                f"{', '.join(missing)} への答えがありません（各段階で必須: {', '.join(REQUIRED_ANSWERS)}）",
                f"missing answers: {missing}",
            )
    pools: list[tuple[str, list[Line]]] = [
        (f"tactic_ladder[{i}].lines.{r.value}", getattr(st.lines, r.value))
        for i, st in enumerate(persona.tactic_ladder)
        for r in Reaction
    ] + [
        (f"closing_lines.{o}", getattr(persona.closing_lines, o))
        for o in type(persona.closing_lines).model_fields
    ]
    for where, pool in pools:
        if all(line.conditional for line in pool):
            raise DataFileError(
                path,
                where,
                "条件（requires / unless）のない台詞を少なくとも1つ入れてください（どんな流れでも話せる台詞）",
                "at least one line without conditions is needed",
            )


def load_rubric(path: Path) -> Rubric:
    rubric = load_model(path, Rubric)
    for i, c in enumerate(rubric.criteria):
        for j, q in enumerate(c.manual_quotes):
            if not quote_in_manual(q):
                raise DataFileError(
                    path,
                    f"criteria[{i}].manual_quotes[{j}]",
                    "マニュアルにこの一文が見つかりません",
                    "quote not found in the manual",
                )
    for i, chk in enumerate(rubric.scenario_checks):
        if not quote_in_manual(chk.manual_quote):
            raise DataFileError(
                path,
                f"scenario_checks[{i}].manual_quote",
                "マニュアルにこの一文が見つかりません",
                "quote not found in the manual",
            )
    return rubric


def data_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if p.is_file())


def load_personas(directory: Path = PERSONAS_DIR) -> dict[str, Persona]:
    out: dict[str, Persona] = {}
    for path in data_files(directory):
        p = load_persona(path)
        out[p.id] = p
    return out


@lru_cache(maxsize=8)
def _cached_personas(directory: str) -> dict[str, Persona]:
    return load_personas(Path(directory))


def personas(directory: Path = PERSONAS_DIR) -> dict[str, Persona]:
    """The shipped personas, loaded once per process."""
    return _cached_personas(str(directory))


def get_persona(persona_id: str, directory: Path = PERSONAS_DIR) -> Persona:
    try:
        return personas(directory)[persona_id]
    except KeyError:
        raise KeyError(f"ペルソナ「{persona_id}」はありません / unknown persona {persona_id!r}") from None


@lru_cache(maxsize=8)
def get_rubric(rubric_id: str = DEFAULT_RUBRIC_ID, directory: str = str(RUBRICS_DIR)) -> Rubric:
    return load_rubric(Path(directory) / f"{rubric_id}.yaml")


def schema_for(model: type[BaseModel], title: str) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = title
    return schema


SCHEMAS: dict[Path, tuple[type[BaseModel], str]] = {
    PERSONAS_DIR / SCHEMA_FILE: (Persona, "カスハラ訓練ペルソナ / harassment-training persona"),
    RUBRICS_DIR / SCHEMA_FILE: (Rubric, "カスハラ訓練ルーブリック / harassment-training rubric"),
}


def render_schema(model: type[BaseModel], title: str) -> str:
    return json.dumps(schema_for(model, title), ensure_ascii=False, indent=2) + "\n"


def write_schemas() -> list[Path]:
    written = []
    for path, (model, title) in SCHEMAS.items():
        path.write_text(render_schema(model, title), encoding="utf-8")
        written.append(path)
    return written
