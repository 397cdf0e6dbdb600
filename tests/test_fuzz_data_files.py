"""Persona and rubric YAML fuzzed with hypothesis: a shipped file mutated (a value replaced by
another type, a key dropped or renamed, text spliced into the YAML) never crashes the loader;
it loads, or it is refused with a ``DataFileError`` that names the file and a field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.errors import DataFileError
from simulator.library import load_persona, load_rubric, parse_persona
from simulator.paths import PERSONAS_DIR, RUBRICS_DIR

PERSONA_FILE = sorted(PERSONAS_DIR.glob("*.yaml"))[0]
RUBRIC_FILE = sorted(RUBRICS_DIR.glob("*.yaml"))[0]
PERSONA = yaml.safe_load(PERSONA_FILE.read_text(encoding="utf-8"))
RUBRIC = yaml.safe_load(RUBRIC_FILE.read_text(encoding="utf-8"))

ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True),
    st.text(max_size=40), st.just(""), st.just("\ud800"), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2), st.just("{{ 7*7 }}"), st.just("<script>"),
)  # fmt: skip


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(doc: Any, path: tuple[Any, ...], how: str, value: Any) -> Any:
    doc = copy.deepcopy(doc)
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    last = path[-1]
    if how == "drop" and isinstance(parent, dict):
        parent.pop(last, None)
    elif how == "rename" and isinstance(parent, dict):
        parent[f"{last}_x"] = parent.pop(last)
    else:
        parent[last] = value
    return doc


def _check(path: Path, doc: Any, loader: Any) -> None:
    try:
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        return  # not writable as YAML: nothing a file could hold
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        loader(path)
    except DataFileError as e:
        assert path.name in e.message, e.message
        assert e.field or "YAML" in e.message or "yaml" in e.message.lower(), e.message
        assert e.problem_ja


PERSONA_PATHS = _paths(PERSONA)
RUBRIC_PATHS = _paths(RUBRIC)
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.sampled_from(PERSONA_PATHS), st.sampled_from(["set", "drop", "rename"]), ODD)
def test_a_mutated_persona_loads_or_names_file_and_field(
    tmp_path_factory: Any, path: tuple[Any, ...], how: str, value: Any
) -> None:
    d = tmp_path_factory.mktemp("fuzz")
    _check(d / PERSONA_FILE.name, _mutate(PERSONA, path, how, value), load_persona)


@FUZZ
@given(st.sampled_from(RUBRIC_PATHS), st.sampled_from(["set", "drop", "rename"]), ODD)
def test_a_mutated_rubric_loads_or_names_file_and_field(
    tmp_path_factory: Any, path: tuple[Any, ...], how: str, value: Any
) -> None:
    d = tmp_path_factory.mktemp("fuzz")
    _check(d / RUBRIC_FILE.name, _mutate(RUBRIC, path, how, value), load_rubric)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 4000), st.text(max_size=30))
def test_text_spliced_into_persona_yaml_never_crashes_the_studio_parser(at: int, junk: str) -> None:
    """What a trainer might paste into the studio's YAML box, anywhere in it."""
    text = PERSONA_FILE.read_text(encoding="utf-8")
    at = min(at, len(text))
    try:
        parse_persona(text[:at] + junk + text[at:], "studio")
    except DataFileError as e:
        assert "studio" in e.message and e.problem_ja


def test_a_lone_surrogate_in_persona_yaml_is_read_as_a_replacement_character() -> None:
    """libyaml refuses one with a UnicodeEncodeError (not a YAML error): the studio's check would
    break instead of answering; a stray half of a pair typed or pasted becomes U+FFFD."""
    from simulator.library import parse_yaml_text

    assert parse_yaml_text("title: a\ud800b", "studio") == {"title": "a\ufffdb"}
    assert parse_yaml_text("title: 🙇\udfff", "studio") == {"title": "🙇\ufffd"}
