"""Prompt templates: render ``prompts/*.j2`` and fence untrusted text inside them.

Prompt text is not HTML, so this environment does not autoescape; a missing variable is
an error (``StrictUndefined``). Text a trainee typed (and any line a model produced) goes
into a prompt only through :func:`fence`, which wraps it in an ASCII tag pair and
neutralises anything inside that could pass for one of the prompt's own delimiters.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

import jinja2

from simulator.paths import PROMPTS_DIR

# The tags the prompts use to fence data. A look-alike of one of these inside fenced text
# is rewritten, so the only real delimiters are the ones the template wrote.
FENCE_TAGS = ("trainee_reply", "trainee_line", "client_line", "transcript")
NEUTRALISED = "[区切り記号に似た文字列を無効化]"

_TAG_NAME = re.compile(r"(trainee|client)[\s_\-]*(reply|line)|transcript", re.IGNORECASE)
# After NFKC the full-width ＜＞ and small ﹤﹥ are ASCII; the prompt's delimiters are ASCII
# only, so turning every ASCII angle bracket into a full-width one makes a forged tag text.
_BRACKETS = str.maketrans({"<": "＜", ">": "＞"})


def neutralise(text: str) -> str:
    """``text`` made safe to place between fence tags (meaning kept, delimiters broken)."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n")
    text = _TAG_NAME.sub(NEUTRALISED, text)
    return text.translate(_BRACKETS)


def fence(text: str, tag: str) -> str:
    """``text`` between ``<tag>`` and ``</tag>``, neutralised."""
    if tag not in FENCE_TAGS:
        raise ValueError(f"unknown fence tag {tag!r}; add it to FENCE_TAGS")
    return f"<{tag}>\n{neutralise(text)}\n</{tag}>"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # prompt text, not HTML; untrusted text is fenced instead
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["fence"] = fence
    return env


def render(name: str, **variables: object) -> str:
    """The template ``prompts/<name>`` rendered; blank runs collapsed to one empty line."""
    text = environment().get_template(name).render(**variables)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def template_hash(name: str) -> str:
    """The first 12 hex digits of the template source's sha256: recorded on every score."""
    source, _, _ = environment().loader.get_source(environment(), name)  # type: ignore[union-attr]
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]
