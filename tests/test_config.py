"""Settings from kasuhara.toml and the environment: offline by default, errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.config import ConfigError, Settings, load_settings

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
