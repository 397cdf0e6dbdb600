"""Runtime settings: every knob of the app, from ``kasuhara.toml`` and environment variables.

Read from ``kasuhara.toml`` (the path in ``KASUHARA_CONFIG``, else ``./kasuhara.toml`` when it
exists) and from environment variables, which override the file. With nothing configured the
product is fully offline: the scripted voice and the hybrid (rules + shipped model) judge.

``KNOBS`` is the single source: each field's environment variable(s), its ``kasuhara.toml``
table, its default and a one-line description. The README's configuration table is
``settings_table_markdown()`` (a test keeps them equal). ``kasuhara.toml`` looks like::

    [llm]
    base_url = "http://127.0.0.1:8000/v1"
    persona_model = "qwen2.5-7b-instruct"
    judge = "both"

    [server]
    host = "127.0.0.1"
    port = 7860

    [storage]
    data_dir = "data"        # relative paths are relative to the kasuhara.toml file

The ``[llm]`` keys are still accepted at the top level (the older flat form). An unknown table
or key is an error naming it (a typo must not silently leave the product offline).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

StructuredMethod = Literal["json_schema", "function_calling", "json_mode"]
VoiceKind = Literal["scripted", "llm"]
JudgeKind = Literal["hybrid", "rules", "llm", "both"]
Table = Literal["llm", "server", "storage"]

CONFIG_FILE = "kasuhara.toml"
CONFIG_ENV = "KASUHARA_CONFIG"
ROOT_ENV = "KASUHARA_ROOT"
TABLES: tuple[Table, ...] = ("llm", "server", "storage")


@dataclass(frozen=True)
class Knob:
    """One setting: where it is read from, its default and what it means."""

    table: Table
    env: tuple[str, ...]  # first set wins
    default: Any
    ja: str
    en: str
    default_text: str = ""  # how the README shows the default, when it is not just ``default``


KNOBS: dict[str, Knob] = {
    "base_url": Knob(
        "llm",
        ("KASUHARA_LLM_BASE_URL",),
        None,
        "OpenAI互換APIのURL（例 `http://127.0.0.1:8000/v1`）",
        "OpenAI-compatible endpoint",
        "未設定: オフライン / unset: offline",
    ),
    "api_key": Knob(
        "llm",
        ("KASUHARA_LLM_API_KEY", "OPENAI_API_KEY"),
        None,
        "APIキー（ローカルサーバーでは不要）",
        "API key (not needed for a local server)",
    ),
    "persona_model": Knob(
        "llm", ("KASUHARA_PERSONA_MODEL",), None, "相手役を演じるモデル名", "persona model"
    ),
    "judge_model": Knob(
        "llm",
        ("KASUHARA_JUDGE_MODEL",),
        None,
        "採点するモデル名",
        "judge model",
        "`persona_model`",
    ),
    "structured_output_method": Knob(
        "llm",
        ("KASUHARA_STRUCTURED_METHOD",),
        "json_schema",
        "構造化出力の方式: `json_schema` / `function_calling` / `json_mode`",
        "structured-output method",
    ),
    "timeout": Knob(
        "llm", ("KASUHARA_LLM_TIMEOUT",), 20.0, "1回のLLM呼び出しの上限（秒）", "seconds per LLM call"
    ),
    "max_retries": Knob(
        "llm",
        ("KASUHARA_LLM_MAX_RETRIES",),
        0,
        "LLM呼び出しの再試行回数（0〜5）",
        "retries per LLM call (0-5)",
    ),
    "voice": Knob(
        "llm",
        ("KASUHARA_VOICE",),
        "scripted",
        "相手役の声: `scripted` または `llm`",
        "who plays the customer",
        "接続先とモデルがあれば `llm`、なければ `scripted` / `llm` when configured, else `scripted`",
    ),
    "judge": Knob(
        "llm",
        ("KASUHARA_JUDGE",),
        "hybrid",
        "採点: `hybrid`（ルール＋学習モデル）/ `rules` / `llm` / `both`（LLM＋hybrid）",
        "who scores the replies",
    ),
    "host": Knob(
        "server", ("KASUHARA_HOST",), "127.0.0.1", "待ち受けるアドレス", "address the app listens on"
    ),
    "port": Knob(
        "server", ("KASUHARA_PORT",), 7860, "待ち受けるポート（1〜65535）", "port the app listens on"
    ),
    "data_dir": Knob(
        "storage",
        ("KASUHARA_DATA_DIR",),
        None,
        "SQLiteの保存先とエクスポートのディレクトリ",
        "directory for the SQLite store and exports",
        "`data/`（リポジトリ直下 / in the checkout）",
    ),
    "database_url": Knob(
        "storage",
        ("KASUHARA_DATABASE_URL",),
        None,
        "SQLAlchemyのURL（例 PostgreSQL）",
        "SQLAlchemy URL (e.g. PostgreSQL)",
        "データディレクトリ内のSQLite / SQLite in the data dir",
    ),
    "personas_dir": Knob(
        "storage",
        ("KASUHARA_PERSONAS_DIR",),
        None,
        "ペルソナファイルの場所（壊れたファイルがあると起動時にファイル名と項目を示して止まります）",
        "where persona files are read from (a broken file stops the start)",
        "`personas/`（リポジトリ直下 / in the checkout）",
    ),
}

# field -> environment variables, first set wins.
ENV_VARS: dict[str, tuple[str, ...]] = {field: knob.env for field, knob in KNOBS.items()}
# path field -> its directory under the repository root when unset.
PATH_FIELDS: dict[str, str] = {"data_dir": "data", "personas_dir": "personas"}

_JA_HINTS: dict[str, str] = {
    "base_url": "http:// または https:// で始まるURLを指定してください",
    "structured_output_method": "json_schema / function_calling / json_mode のいずれかを指定してください",
    "timeout": "0より大きく600以下の秒数を指定してください",
    "max_retries": "0から5の整数を指定してください",
    "voice": "scripted または llm を指定してください",
    "judge": "hybrid / rules / llm / both のいずれかを指定してください",
    "host": "待ち受けるアドレス（例 127.0.0.1）を文字列で指定してください",
    "port": "1から65535の整数を指定してください",
    "data_dir": "ディレクトリのパスを文字列で指定してください",
    "database_url": "SQLAlchemy のURLを文字列で指定してください",
    "personas_dir": "ディレクトリのパスを文字列で指定してください",
}


def repo_root(env: Mapping[str, str] | None = None) -> Path:
    """The repository root (``KASUHARA_ROOT``, else the checkout this file is in)."""
    env = os.environ if env is None else env
    return Path(env.get(ROOT_ENV) or Path(__file__).resolve().parent.parent)


def _field(name: str, **constraints: Any) -> Any:
    knob = KNOBS[name]
    return Field(default=knob.default, description=f"{knob.ja} / {knob.en}", **constraints)


class ConfigError(ValueError):
    """A configuration value that cannot be used. The message names the key (Japanese first)."""

    def __init__(self, key: str, problem_ja: str, problem_en: str) -> None:
        self.key = key
        self.problem_ja = problem_ja
        self.problem_en = problem_en
        super().__init__(f"設定 {key}: {problem_ja} / config {key}: {problem_en}")


class Settings(BaseModel):
    """Everything the app can be told: the LLM voice and judge, where to listen, where data lives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # [llm]
    base_url: str | None = _field("base_url")
    api_key: SecretStr | None = _field("api_key")
    persona_model: str | None = _field("persona_model")
    judge_model: str | None = _field("judge_model")
    structured_output_method: StructuredMethod = _field("structured_output_method")
    timeout: float = _field("timeout", gt=0, le=600)
    max_retries: int = _field("max_retries", ge=0, le=5)
    voice: VoiceKind = _field("voice")
    judge: JudgeKind = _field("judge")
    # [server]
    host: str = _field("host", min_length=1)
    port: int = _field("port", ge=1, le=65535)
    # [storage]
    data_dir: Path = Field(
        default_factory=lambda: repo_root() / "data",
        description=f"{KNOBS['data_dir'].ja} / {KNOBS['data_dir'].en}",
    )
    database_url: str | None = _field("database_url")
    personas_dir: Path = Field(
        default_factory=lambda: repo_root() / "personas",
        description=f"{KNOBS['personas_dir'].ja} / {KNOBS['personas_dir'].en}",
    )

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


def _fields_of(table: Table) -> list[str]:
    return [field for field, knob in KNOBS.items() if knob.table == table]


def _read_file(path: Path) -> dict[str, tuple[Any, str]]:
    """field -> (value, the key as written in the file, e.g. ``[llm] timeout``)."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(str(path), "設定ファイルが見つかりません", "config file not found") from None
    except OSError as e:
        raise ConfigError(str(path), f"設定ファイルを読めません（{e}）", f"cannot read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path), f"TOML として読めません（{e}）", f"invalid TOML: {e}") from None
    tables = ", ".join(f"[{t}]" for t in TABLES)
    out: dict[str, tuple[Any, str]] = {}
    for key, value in data.items():
        if key in TABLES:
            known = _fields_of(key)
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{path}: {key}",
                    f"[{key}] はテーブルとして書いてください",
                    f"{key} must be a table ([{key}])",
                )
            for sub, sub_value in value.items():
                if sub not in known:
                    raise ConfigError(
                        f"{path}: [{key}] {sub}",
                        "定義されていない項目です（綴りを確認してください）",
                        f"unknown key (known in [{key}]: {', '.join(known)})",
                    )
                if sub in out:
                    raise ConfigError(
                        f"{path}: [{key}] {sub}",
                        "トップレベルと [llm] の両方に書かれています",
                        "set both at the top level and in [llm]",
                    )
                out[sub] = (sub_value, f"[{key}] {sub}")
        elif key in KNOBS and KNOBS[key].table == "llm":
            if key in out:
                raise ConfigError(
                    f"{path}: {key}",
                    "トップレベルと [llm] の両方に書かれています",
                    "set both at the top level and in [llm]",
                )
            out[key] = (value, key)  # the older flat form
        elif key in KNOBS:
            table = KNOBS[key].table
            raise ConfigError(
                f"{path}: {key}",
                f"[{table}] テーブルの中に書いてください",
                f"belongs in the [{table}] table",
            )
        elif isinstance(value, dict):
            raise ConfigError(
                f"{path}: [{key}]",
                f"定義されていないテーブルです（{tables} のいずれか）",
                f"unknown table (known: {tables})",
            )
        else:
            raise ConfigError(
                f"{path}: {key}",
                "定義されていない項目です（綴りを確認してください）",
                f"unknown key (known tables: {tables}; [llm] keys may also be top-level)",
            )
    for field in PATH_FIELDS:
        if field in out and isinstance(out[field][0], str) and out[field][0]:
            # Relative to the file, so a kasuhara.toml works from any working directory.
            value, where = out[field]
            out[field] = (path.parent / Path(value).expanduser(), where)
    return out


def load_settings(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """The settings from ``path`` (or ``KASUHARA_CONFIG`` / ``./kasuhara.toml``) and ``env``.

    ``env`` defaults to ``os.environ``; an empty variable counts as unset.
    """
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    source: dict[str, str] = {}
    file = _config_path(path, env)
    if file is not None:
        for field, (value, where) in _read_file(file).items():
            raw[field] = value
            source[field] = f"{file.name}: {where}"
    for field, names in ENV_VARS.items():
        for name in names:
            value = env.get(name, "").strip()
            if value:
                raw[field] = value
                source[field] = name
                break
    root = repo_root(env)
    for field in PATH_FIELDS:
        if raw.get(field) in (None, ""):
            raw[field] = root / PATH_FIELDS[field]

    def key_name(field: str) -> str:
        # The key the user set, or, for a missing one, where it can be set.
        if field in source:
            return source[field]
        if field in KNOBS:
            return f"{ENV_VARS[field][0]} ([{KNOBS[field].table}] {field} in {CONFIG_FILE})"
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


def _shown_default(knob: Knob) -> str:
    if knob.default_text:
        return knob.default_text
    if knob.default is None:
        return "—"
    value = knob.default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def settings_table_markdown() -> str:
    """The README's configuration table, one row per setting (from ``KNOBS``)."""
    lines = [
        "| 環境変数 / variable | kasuhara.toml | 意味 / meaning | 既定値 / default |",
        "| --- | --- | --- | --- |",
        f"| `{CONFIG_ENV}` | — | 設定ファイルの場所 / path of the config file | `./{CONFIG_FILE}`（あれば / if present） |",
    ]
    for field, knob in KNOBS.items():
        names = " / ".join(f"`{name}`" for name in knob.env)
        lines.append(
            f"| {names} | `[{knob.table}] {field}` | {knob.ja} / {knob.en} | {_shown_default(knob)} |"
        )
    return "\n".join(lines) + "\n"
