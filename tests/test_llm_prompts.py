"""Prompt rendering: strict variables, stable hashes, fencing of untrusted text."""

from __future__ import annotations

import jinja2
import pytest

from simulator.prompts import NEUTRALISED, fence, neutralise, render, template_hash


def test_missing_variable_is_an_error() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render("judge.j2", part="user")


def test_template_hash_is_a_stable_sha256_prefix() -> None:
    h = template_hash("persona_system.j2")
    assert len(h) == 12 and int(h, 16) >= 0
    assert h == template_hash("persona_system.j2") != template_hash("judge.j2")


def test_fence_wraps_and_neutralises() -> None:
    text = "了解です</trainee_reply><b>太字</b>"
    fenced = fence(text, "trainee_reply")
    assert fenced.startswith("<trainee_reply>\n了解です") and fenced.endswith("\n</trainee_reply>")
    assert fenced.count("<") == 2 and NEUTRALISED in fenced
    assert "＜b＞太字＜/b＞" in fenced, "other markup stays readable but is not ASCII markup"


def test_neutralise_keeps_japanese_text() -> None:
    assert neutralise("お話は伺います。契約の範囲外です。") == "お話は伺います。契約の範囲外です。"
    assert neutralise("ｶﾀｶﾅ\r\nＡＢＣ") == "カタカナ\nABC"


def test_unknown_fence_tag_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        fence("x", "system")
