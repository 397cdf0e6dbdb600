"""Settings from kasuhara.toml and the environment: offline by default, errors name the key."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from simulator.config import (
    ENV_VARS,
    KNOBS,
    ConfigError,
    Settings,
    load_settings,
    repo_root,
    settings_table_markdown,
)

README = Path(__file__).resolve().parent.parent / "README.md"

LLM_ENV = {"KASUHARA_LLM_BASE_URL": "http://127.0.0.1:8000/v1", "KASUHARA_PERSONA_MODEL": "qwen"}


@pytest.fixture(autouse=True)
def _empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # A kasuhara.toml in the developer's checkout must not leak into these tests.
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_nothing_configured_is_fully_offline() -> None:
    s = load_settings(env={})
    assert (s.voice, s.judge, s.llm_enabled) == ("scripted", "hybrid", False)
    assert s.base_url is None and s.api_key is None
    assert s.timeout == 20 and s.max_retries == 0
    assert s.structured_output_method == "json_schema"


def test_endpoint_and_model_turn_the_llm_voice_on() -> None:
    s = load_settings(env=LLM_ENV)
    assert s.voice == "llm" and s.llm_enabled
    assert s.judge == "hybrid", "the LLM judge is opt-in"
    assert s.judge_model == "qwen", "the judge uses the persona model unless told otherwise"


def test_voice_can_stay_scripted_with_an_llm_configured() -> None:
    s = load_settings(env={**LLM_ENV, "KASUHARA_VOICE": "scripted", "KASUHARA_JUDGE": "both"})
    assert (s.voice, s.judge, s.llm_enabled) == ("scripted", "both", True)


def test_all_environment_variables() -> None:
    s = load_settings(
        env={
            **LLM_ENV,
            "KASUHARA_JUDGE_MODEL": "judge-model",
            "KASUHARA_STRUCTURED_METHOD": "function_calling",
            "KASUHARA_LLM_TIMEOUT": "7.5",
            "KASUHARA_LLM_MAX_RETRIES": "1",
            "KASUHARA_JUDGE": "llm",
            "KASUHARA_LLM_API_KEY": "sk-kasuhara",
            "OPENAI_API_KEY": "sk-openai",
        }
    )
    assert s.judge_model == "judge-model"
    assert s.structured_output_method == "function_calling"
    assert (s.timeout, s.max_retries, s.judge) == (7.5, 1, "llm")
    assert s.api_key_value == "sk-kasuhara"
    assert "sk-kasuhara" not in repr(s), "the key must not show up in logs"


def test_openai_api_key_is_the_fallback_key() -> None:
    assert load_settings(env={"OPENAI_API_KEY": "sk-openai"}).api_key_value == "sk-openai"


def test_empty_variables_count_as_unset() -> None:
    s = load_settings(env={"KASUHARA_LLM_BASE_URL": "", "KASUHARA_VOICE": " "})
    assert s.voice == "scripted" and not s.llm_enabled


def test_file_in_cwd_and_env_overrides_it(_empty_cwd: Path) -> None:
    (_empty_cwd / "kasuhara.toml").write_text(
        'base_url = "http://gpu:8000/v1"\npersona_model = "from-file"\njudge = "both"\ntimeout = 5\n',
        encoding="utf-8",
    )
    s = load_settings(env={})
    assert (s.base_url, s.persona_model, s.judge, s.timeout, s.voice) == (
        "http://gpu:8000/v1",
        "from-file",
        "both",
        5,
        "llm",
    )
    s = load_settings(env={"KASUHARA_PERSONA_MODEL": "from-env", "KASUHARA_JUDGE": "rules"})
    assert (s.persona_model, s.judge) == ("from-env", "rules")


def test_file_named_by_kasuhara_config_or_argument(tmp_path: Path) -> None:
    f = tmp_path / "elsewhere.toml"
    f.write_text('voice = "scripted"\nstructured_output_method = "json_mode"\n', encoding="utf-8")
    assert load_settings(env={"KASUHARA_CONFIG": str(f)}).structured_output_method == "json_mode"
    assert load_settings(f, env={}).structured_output_method == "json_mode"


@pytest.mark.parametrize(
    ("env", "key", "ja"),
    [
        ({"KASUHARA_LLM_TIMEOUT": "abc"}, "KASUHARA_LLM_TIMEOUT", "秒数"),
        ({"KASUHARA_LLM_TIMEOUT": "0"}, "KASUHARA_LLM_TIMEOUT", "秒数"),
        ({"KASUHARA_LLM_MAX_RETRIES": "9"}, "KASUHARA_LLM_MAX_RETRIES", "整数"),
        ({"KASUHARA_STRUCTURED_METHOD": "xml"}, "KASUHARA_STRUCTURED_METHOD", "json_schema"),
        ({"KASUHARA_VOICE": "robot"}, "KASUHARA_VOICE", "scripted"),
        ({"KASUHARA_JUDGE": "human"}, "KASUHARA_JUDGE", "rules"),
        ({"KASUHARA_LLM_BASE_URL": "localhost:8000"}, "KASUHARA_LLM_BASE_URL", "http://"),
        ({"KASUHARA_VOICE": "llm"}, "KASUHARA_LLM_BASE_URL", "接続先"),
        (
            {"KASUHARA_VOICE": "llm", "KASUHARA_LLM_BASE_URL": "http://x/v1"},
            "KASUHARA_PERSONA_MODEL",
            "モデル名",
        ),
        (
            {"KASUHARA_JUDGE": "llm", "KASUHARA_LLM_BASE_URL": "http://x/v1"},
            "KASUHARA_JUDGE_MODEL",
            "モデル名",
        ),
    ],
)
def test_invalid_values_name_the_key_in_japanese_and_english(env: dict[str, str], key: str, ja: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env=env)
    message = str(info.value)
    assert message.startswith(f"設定 {key}") and ja in message
    assert f"config {key}" in message


def test_invalid_file_value_names_the_file_key(_empty_cwd: Path) -> None:
    (_empty_cwd / "kasuhara.toml").write_text("timeout = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"設定 kasuhara.toml: timeout"):
        load_settings(env={})


def test_unknown_key_in_file_is_an_error(_empty_cwd: Path) -> None:
    (_empty_cwd / "kasuhara.toml").write_text('persona_modle = "typo"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="persona_modle.*定義されていない項目"):
        load_settings(env={})


def test_broken_or_missing_file(_empty_cwd: Path) -> None:
    (_empty_cwd / "kasuhara.toml").write_text("voice = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="TOML として読めません"):
        load_settings(env={})
    with pytest.raises(ConfigError, match="見つかりません"):
        load_settings(env={"KASUHARA_CONFIG": str(_empty_cwd / "nope.toml")})


def test_settings_can_be_built_directly() -> None:
    s = Settings(base_url="http://127.0.0.1:1/v1", persona_model="m")
    assert s.voice == "llm" and s.judge_model == "m"


# --- every knob: [llm] / [server] / [storage], the README, env overrides ---------------------


def _readme_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## 設定 / Configuration")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def _readme_toml() -> str:
    blocks = re.findall(r"```toml\n(.*?)```", _readme_section(), flags=re.S)
    assert len(blocks) == 1, "the configuration section shows one kasuhara.toml example"
    return blocks[0]


def test_knobs_cover_every_settings_field() -> None:
    assert list(KNOBS) == list(Settings.model_fields)
    assert set(ENV_VARS) == set(KNOBS)
    every_env = [name for names in ENV_VARS.values() for name in names]
    assert len(every_env) == len(set(every_env)), "one variable sets one field"


def test_readme_table_is_generated_from_the_settings() -> None:
    section = _readme_section()
    match = re.search(r"<!-- settings-table:start -->\n(.*?)<!-- settings-table:end -->", section, re.S)
    assert match, "README: the table sits between the settings-table markers"
    assert match.group(1) == settings_table_markdown(), (
        "README の設定表が古くなっています。settings_table_markdown() の出力に置き換えてください"
        " / README table is stale: paste settings_table_markdown()"
    )
    for names in ENV_VARS.values():
        assert all(f"`{name}`" in match.group(1) for name in names)


def test_readme_toml_example_loads_and_gives_the_values_shown(tmp_path: Path) -> None:
    text = _readme_toml()
    f = tmp_path / "kasuhara.toml"
    f.write_text(text, encoding="utf-8")
    s = load_settings(f, env={})
    shown = tomllib.loads(text)
    assert set(shown) == {"llm", "server", "storage"}
    for table, values in shown.items():
        for key, value in values.items():
            got = getattr(s, key)
            if key == "api_key":
                got = s.api_key_value
            elif key in ("data_dir", "personas_dir"):
                value = tmp_path / value
            assert got == value, f"[{table}] {key}"
    assert (s.voice, s.judge, s.port) == ("llm", "both", 8080)
    assert s.database_url is None, "database_url is shown commented out"


def test_defaults_for_server_and_storage() -> None:
    s = load_settings(env={})
    assert (s.host, s.port, s.database_url) == ("127.0.0.1", 7860, None)
    assert s.data_dir == repo_root() / "data"
    assert s.personas_dir == repo_root() / "personas"
    moved = load_settings(env={"KASUHARA_ROOT": "/srv/kasuhara"})
    assert moved.data_dir == Path("/srv/kasuhara/data")
    assert moved.personas_dir == Path("/srv/kasuhara/personas")


def test_settings_built_directly_have_the_same_defaults() -> None:
    s = Settings()
    assert (s.host, s.port, s.data_dir, s.personas_dir) == (
        "127.0.0.1",
        7860,
        repo_root() / "data",
        repo_root() / "personas",
    )


ALL_TABLES_TOML = """
[llm]
base_url = "http://file:8000/v1"
api_key = "sk-file"
persona_model = "file-persona"
judge_model = "file-judge"
structured_output_method = "json_mode"
timeout = 5
max_retries = 2
voice = "scripted"
judge = "rules"

[server]
host = "10.0.0.1"
port = 9000

[storage]
data_dir = "file-data"
database_url = "sqlite:///file.sqlite3"
personas_dir = "file-personas"
"""

ENV_VALUES: dict[str, tuple[str, object]] = {
    # variable -> (its value, the value the setting then has)
    "KASUHARA_LLM_BASE_URL": ("http://env:8000/v1", "http://env:8000/v1"),
    "KASUHARA_LLM_API_KEY": ("sk-env", "sk-env"),
    "OPENAI_API_KEY": ("sk-openai", "sk-openai"),
    "KASUHARA_PERSONA_MODEL": ("env-persona", "env-persona"),
    "KASUHARA_JUDGE_MODEL": ("env-judge", "env-judge"),
    "KASUHARA_STRUCTURED_METHOD": ("function_calling", "function_calling"),
    "KASUHARA_LLM_TIMEOUT": ("7.5", 7.5),
    "KASUHARA_LLM_MAX_RETRIES": ("4", 4),
    "KASUHARA_VOICE": ("llm", "llm"),
    "KASUHARA_JUDGE": ("hybrid", "hybrid"),
    "KASUHARA_HOST": ("0.0.0.0", "0.0.0.0"),
    "KASUHARA_PORT": ("8081", 8081),
    "KASUHARA_DATA_DIR": ("/env/data", Path("/env/data")),
    "KASUHARA_DATABASE_URL": ("postgresql://db/env", "postgresql://db/env"),
    "KASUHARA_PERSONAS_DIR": ("/env/personas", Path("/env/personas")),
}


def test_every_environment_variable_is_in_the_override_test() -> None:
    assert set(ENV_VALUES) == {name for names in ENV_VARS.values() for name in names}


@pytest.mark.parametrize("name", sorted(ENV_VALUES))
def test_each_environment_variable_overrides_the_file(name: str, tmp_path: Path) -> None:
    f = tmp_path / "kasuhara.toml"
    f.write_text(ALL_TABLES_TOML, encoding="utf-8")
    before = load_settings(f, env={})
    field = next(field for field, names in ENV_VARS.items() if name in names)
    raw, expected = ENV_VALUES[name]
    after = load_settings(f, env={name: raw})
    got = after.api_key_value if field == "api_key" else getattr(after, field)
    assert got == expected
    for other in KNOBS:
        if other != field:
            assert getattr(after, other) == getattr(before, other), f"{name} changed only {field}"


def test_file_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    f = tmp_path / "conf" / "kasuhara.toml"
    f.parent.mkdir()
    f.write_text(ALL_TABLES_TOML, encoding="utf-8")
    s = load_settings(f, env={})
    assert s.data_dir == tmp_path / "conf" / "file-data"
    assert s.personas_dir == tmp_path / "conf" / "file-personas"
    assert (s.host, s.port, s.database_url) == ("10.0.0.1", 9000, "sqlite:///file.sqlite3")


@pytest.mark.parametrize(
    ("toml", "named", "ja"),
    [
        ('[llm]\nbse_url = "http://x/v1"\n', "kasuhara.toml: [llm] bse_url", "定義されていない項目"),
        ("[server]\nprot = 1\n", "kasuhara.toml: [server] prot", "定義されていない項目"),
        ('[storage]\nhost = "x"\n', "kasuhara.toml: [storage] host", "定義されていない項目"),
        ("[sever]\nport = 1\n", "kasuhara.toml: [sever]", "定義されていないテーブル"),
        ("port = 8080\n", "kasuhara.toml: port", "[server] テーブルの中"),
        ('llm = "x"\n', "kasuhara.toml: llm", "テーブルとして"),
        ("timeout = 5\n[llm]\ntimeout = 6\n", "kasuhara.toml: [llm] timeout", "両方"),
    ],
)
def test_unknown_table_or_key_names_itself(_empty_cwd: Path, toml: str, named: str, ja: str) -> None:
    (_empty_cwd / "kasuhara.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(env={})
    message = str(info.value)
    assert message.startswith("設定 ") and named in message and ja in message
    assert message.index(ja) < message.index("/ config"), "Japanese first"


@pytest.mark.parametrize("port", ["0", "65536", "http", "-1"])
def test_bad_port_in_env_names_kasuhara_port(port: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env={"KASUHARA_PORT": port})
    assert str(info.value).startswith("設定 KASUHARA_PORT: 1から65535の整数")


@pytest.mark.parametrize("port", ["0", "70000", '"http"'])
def test_bad_port_in_file_names_server_port(_empty_cwd: Path, port: str) -> None:
    (_empty_cwd / "kasuhara.toml").write_text(f"[server]\nport = {port}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(env={})
    assert str(info.value).startswith("設定 kasuhara.toml: [server] port: 1から65535の整数")


def test_old_flat_llm_keys_and_tables_mix(_empty_cwd: Path) -> None:
    (_empty_cwd / "kasuhara.toml").write_text(
        'base_url = "http://gpu:8000/v1"\npersona_model = "flat"\n[server]\nport = 8000\n',
        encoding="utf-8",
    )
    s = load_settings(env={})
    assert (s.base_url, s.persona_model, s.voice, s.port) == ("http://gpu:8000/v1", "flat", "llm", 8000)


def test_missing_model_names_where_to_set_it() -> None:
    with pytest.raises(
        ConfigError, match=r"KASUHARA_PERSONA_MODEL \(\[llm\] persona_model in kasuhara.toml\)"
    ):
        load_settings(env={"KASUHARA_VOICE": "llm", "KASUHARA_LLM_BASE_URL": "http://x/v1"})


def _run_python(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    clean = {k: v for k, v in os.environ.items() if not k.startswith("KASUHARA_")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=clean, timeout=60
    )


def test_paths_follow_the_settings_and_env_wins(_empty_cwd: Path) -> None:
    (_empty_cwd / "kasuhara.toml").write_text(
        '[storage]\ndata_dir = "d"\npersonas_dir = "p"\n', encoding="utf-8"
    )
    code = "from simulator import paths; print(paths.PERSONAS_DIR); print(paths.data_dir())"
    r = _run_python(code, _empty_cwd, PYTHONPATH=str(repo_root()))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(_empty_cwd / "p"), str(_empty_cwd / "d")]
    r = _run_python(
        code, _empty_cwd, PYTHONPATH=str(repo_root()), KASUHARA_PERSONAS_DIR="/x/p", KASUHARA_DATA_DIR="/x/d"
    )
    assert r.stdout.split() == ["/x/p", "/x/d"]


def test_a_broken_file_does_not_break_importing_paths(_empty_cwd: Path) -> None:
    (_empty_cwd / "kasuhara.toml").write_text("[server]\nport = \n", encoding="utf-8")
    code = (
        "from simulator import paths; print(paths.PERSONAS_DIR)\n"
        "from simulator.config import ConfigError\n"
        "try:\n    paths.data_dir()\nexcept ConfigError as e:\n    print('ConfigError', e)\n"
    )
    r = _run_python(code, _empty_cwd, PYTHONPATH=str(repo_root()))
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == str(repo_root() / "personas")
    assert lines[1].startswith("ConfigError 設定 ") and "TOML として読めません" in lines[1]
