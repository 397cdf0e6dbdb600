"""The one place a LangChain chat model is built, and failures are put into words."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
from langchain_core.exceptions import OutputParserException
from langchain_openai import ChatOpenAI
from pydantic import SecretStr, ValidationError

from simulator.config import Settings
from simulator.errors import LLMUnavailable

# Local OpenAI-compatible servers (vLLM, Ollama, llama.cpp) ignore the key but the client
# insists on one.
DUMMY_API_KEY = "not-needed"


def make_chat_model(
    settings: Settings,
    model: str,
    streaming: bool = False,
    *,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> ChatOpenAI:
    """A ``ChatOpenAI`` for ``model`` at ``settings.base_url``.

    The Chat Completions API is forced (not the Responses API), since that is what every
    OpenAI-compatible server speaks, and usage is not requested on streams because some
    servers reject ``stream_options``. ``streaming=True`` makes ``invoke`` stream too;
    ``.stream()`` streams either way (an explicit ``streaming=False`` would stop that in
    langchain-core 1.x, so it is never passed).
    """
    if not settings.base_url:
        raise LLMUnavailable("LLMの接続先が設定されていません")
    extra: dict[str, Any] = {"streaming": True} if streaming else {}
    return ChatOpenAI(
        model=model,
        base_url=settings.base_url,
        api_key=settings.api_key or SecretStr(DUMMY_API_KEY),
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        stream_usage=False,
        use_responses_api=False,
        temperature=temperature,
        max_completion_tokens=max_tokens,
        **extra,
    )


def describe_error(exc: BaseException) -> str:
    """A short Japanese reason for a failed call, shown to the trainee in a notice."""
    if isinstance(exc, LLMUnavailable):
        return str(exc)
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return "応答が時間内に返りませんでした"
    if isinstance(exc, openai.APIConnectionError | httpx.ConnectError | ConnectionError):
        return "接続できません"
    if isinstance(exc, openai.RateLimitError):
        return "サーバーが混み合っています（429）"
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return f"認証に失敗しました（{exc.status_code}）"
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return f"サーバーエラーです（{exc.status_code}）"
        return f"リクエストが受け付けられませんでした（{exc.status_code}）"
    if isinstance(
        exc,
        openai.APIResponseValidationError
        | OutputParserException
        | ValidationError
        | json.JSONDecodeError
        | ValueError
        | KeyError
        | TypeError,
    ):
        return "応答の形式が正しくありません"
    return f"予期しないエラーです（{type(exc).__name__}）"
