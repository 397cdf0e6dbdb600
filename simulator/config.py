"""Runtime settings: which voice and judge run, and how to reach an OpenAI-compatible LLM.

Read from ``kasuhara.toml`` (the path in ``KASUHARA_CONFIG``, else ``./kasuhara.toml`` when it
exists) and from environment variables, which override the file. With nothing configured the
product is fully offline: the scripted voice and the hybrid (rules + shipped model) judge.

``kasuhara.toml`` uses the field names below as top-level keys::

    base_url = "http://127.0.0.1:8000/v1"
    persona_model = "qwen2.5-7b-instruct"
    judge_model = "qwen2.5-7b-instruct"
    structured_output_method = "function_calling"
    timeout = 20
    voice = "llm"
    judge = "both"

An unknown key is an error (a typo must not silently leave the product offline).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

StructuredMethod = Literal["json_schema", "function_calling", "json_mode"]
VoiceKind = Literal["scripted", "llm"]
JudgeKind = Literal["hybrid", "rules", "llm", "both"]

CONFIG_FILE = "kasuhara.toml"
CONFIG_ENV = "KASUHARA_CONFIG"

# field -> environment variables, first set wins.
ENV_VARS: dict[str, tuple[str, ...]] = {
    "base_url": ("KASUHARA_LLM_BASE_URL",),
    "api_key": ("KASUHARA_LLM_API_KEY", "OPENAI_API_KEY"),
    "persona_model": ("KASUHARA_PERSONA_MODEL",),
    "judge_model": ("KASUHARA_JUDGE_MODEL",),
    "structured_output_method": ("KASUHARA_STRUCTURED_METHOD",),
    "timeout": ("KASUHARA_LLM_TIMEOUT",),
    "max_retries": ("KASUHARA_LLM_MAX_RETRIES",),
    "voice": ("KASUHARA_VOICE",),
    "judge": ("KASUHARA_JUDGE",),
}

_JA_HINTS: dict[str, str] = {
    "base_url": "http:// または https:// で始まるURLを指定してください",
    "structured_output_method": "json_schema / function_calling / json_mode のいずれかを指定してください",
    "timeout": "0より大きく600以下の秒数を指定してください",
    "max_retries": "0から5の整数を指定してください",
    "voice": "scripted または llm を指定してください",
    "judge": "hybrid / rules / llm / both のいずれかを指定してください",
}


class ConfigError(ValueError):
    """A configuration value that cannot be used. The message names the key (Japanese first)."""

    def __init__(self, key: str, problem_ja: str, problem_en: str) -> None:
        self.key = key
        self.problem_ja = problem_ja
        self.problem_en = problem_en
        super().__init__(f"設定 {key}: {problem_ja} / config {key}: {problem_en}")


class Settings(BaseModel):
    """What the app needs to know to run a voice and a judge."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str | None = Field(default=None, description="OpenAI互換APIのURL（…/v1）")
    api_key: SecretStr | None = Field(default=None, description="APIキー（ローカルサーバーでは不要）")
    persona_model: str | None = Field(default=None, description="相手役を演じるモデル名")
    judge_model: str | None = Field(default=None, description="採点するモデル名（未指定なら persona_model）")
    structured_output_method: StructuredMethod = "json_schema"
    timeout: float = Field(default=20.0, gt=0, le=600, description="1回のLLM呼び出しの上限（秒）")
    max_retries: int = Field(default=0, ge=0, le=5)
    voice: VoiceKind = Field(
        default="scripted", description="未指定なら接続先とモデルがあれば llm、なければ scripted"
    )
    judge: JudgeKind = "hybrid"

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {k: v for k, v in data.items() if v not in (None, "")}
        if "judge_model" not in data and "persona_model" in data:
            data["judge_model"] = data["persona_model"]
        if "voice" not in data:
            data["voice"] = "llm" if data.get("base_url") and data.get("persona_model") else "scripted"
        return data

    @model_validator(mode="after")
    def _usable(self) -> Settings:
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise ConfigError("base_url", _JA_HINTS["base_url"], "must start with http:// or https://")
        if self.voice == "llm":
            if not self.base_url:
                raise ConfigError("base_url", "voice=llm には接続先URLが必要です", "voice=llm needs base_url")
            if not self.persona_model:
                raise ConfigError(
                    "persona_model", "voice=llm にはモデル名が必要です", "voice=llm needs persona_model"
                )
        if self.judge in ("llm", "both"):
            if not self.base_url:
                raise ConfigError(
                    "base_url",
                    f"judge={self.judge} には接続先URLが必要です",
                    f"judge={self.judge} needs base_url",
                )
            if not self.judge_model:
                raise ConfigError(
                    "judge_model",
                    f"judge={self.judge} にはモデル名が必要です",
                    f"judge={self.judge} needs judge_model",
                )
        return self

    @property
    def llm_enabled(self) -> bool:
        """True when an LLM endpoint and at least one model are configured."""
        return bool(self.base_url and (self.persona_model or self.judge_model))

    @property
    def api_key_value(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key else None


def _config_path(path: Path | str | None, env: Mapping[str, str]) -> Path | None:
    if path is not None:
        return Path(path)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    default = Path.cwd() / CONFIG_FILE
    return default if default.is_file() else None


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(str(path), "設定ファイルが見つかりません", "config file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path), f"TOML として読めません（{e}）", f"invalid TOML: {e}") from None
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(
            f"{path}: {unknown[0]}",
            "定義されていない項目です（綴りを確認してください）",
            f"unknown key (known: {', '.join(Settings.model_fields)})",
        )
    return data


def load_settings(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """The settings from ``path`` (or ``KASUHARA_CONFIG`` / ``./kasuhara.toml``) and ``env``.

    ``env`` defaults to ``os.environ``; an empty variable counts as unset.
    """
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    source: dict[str, str] = {}
    file = _config_path(path, env)
    if file is not None:
        for key, value in _read_file(file).items():
            raw[key] = value
            source[key] = f"{file.name}: {key}"
    for field, names in ENV_VARS.items():
        for name in names:
            value = env.get(name, "").strip()
            if value:
                raw[field] = value
                source[field] = name
                break

    def key_name(field: str) -> str:
        # The key the user set, or, for a missing one, where it can be set.
        if field in source:
            return source[field]
        if field in ENV_VARS:
            return f"{ENV_VARS[field][0]} ({field} in {CONFIG_FILE})"
        return field

    try:
        return Settings.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        if first["type"] == "value_error" and isinstance(first.get("ctx", {}).get("error"), ConfigError):
            inner: ConfigError = first["ctx"]["error"]
            raise ConfigError(key_name(inner.key), inner.problem_ja, inner.problem_en) from None
        hint = _JA_HINTS.get(field, "値が正しくありません")
        shown = repr(raw.get(field)) if field != "api_key" else "(秘匿)"
        raise ConfigError(
            key_name(field), f"{hint}（入力: {shown}）", f"{first['msg']} (got {shown})"
        ) from None
