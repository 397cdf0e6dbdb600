"""Compile a rubric's signal lexicons into regular expressions and lemma sets, once."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from simulator.models import CriterionId, Rubric, SignalPattern
from simulator.text import lemma_of

# pattern object -> "criterion.group#n" (or "lexicon.group#n"), so evidence can name the
# pattern that produced it
PATTERN_IDS: dict[int, str] = {}


@dataclass
class Compiled:
    """One rubric's lexicons, ready to match."""

    signals: dict[str, dict[str, list[re.Pattern[str]]]] = field(default_factory=dict)
    patterns: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)
    lemmas: dict[str, frozenset[str]] = field(default_factory=dict)
    checks: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)

    def sig(self, criterion: CriterionId | str, group: str) -> list[re.Pattern[str]]:
        return self.signals.get(str(criterion), {}).get(group, [])

    def lex(self, group: str) -> list[re.Pattern[str]]:
        return self.patterns.get(group, [])

    def words(self, group: str) -> frozenset[str]:
        return self.lemmas.get(group, frozenset())


# patterns whose match stands even when a negation follows (SignalPattern.negatable = False)
NOT_NEGATABLE: set[int] = set()


def _compile(entries: list[Any], where: str) -> list[re.Pattern[str]]:
    out = []
    base = where.replace("criteria.", "").replace(".signals", "")
    for n, e in enumerate(entries):
        src = e.re if isinstance(e, SignalPattern) else e
        try:
            p = re.compile(src)
        except re.error as err:
            raise ValueError(f"{where}: 正規表現として読めません / bad pattern {src!r}: {err}") from None
        if isinstance(e, SignalPattern):
            PATTERN_IDS[id(p)] = f"{base}.{e.id}"
            if not e.negatable:
                NOT_NEGATABLE.add(id(p))
        else:
            PATTERN_IDS.setdefault(id(p), f"{base}#{n}")
        out.append(p)
    return out


def compile_rubric(rubric: Rubric) -> Compiled:
    c = Compiled()
    for crit in rubric.criteria:
        c.signals[crit.id.value] = {
            g: _compile(v, f"criteria.{crit.id.value}.signals.{g}") for g, v in crit.signals.items()
        }
    for g, v in rubric.lexicon.items():
        if g.endswith("_verbs") or g.endswith("_nouns"):
            # write lemmas as you would say them; match Sudachi's normalised forms
            c.lemmas[g] = frozenset({lemma_of(w) for w in v} | set(v))
        else:
            c.patterns[g] = _compile(v, f"lexicon.{g}")
    for chk in rubric.scenario_checks:
        c.checks[chk.id] = _compile(chk.signals, f"scenario_checks.{chk.id}.signals")
    return c


# the rubric is kept in the value so that its id() cannot be reused while cached
_cache: dict[tuple[str, int, int], tuple[Rubric, Compiled]] = {}
_lock = threading.Lock()


def compiled_for(rubric: Rubric) -> Compiled:
    key = (rubric.id, rubric.version, id(rubric))
    got = _cache.get(key)
    if got is None:
        with _lock:
            got = _cache.get(key)
            if got is None:
                got = (rubric, compile_rubric(rubric))
                if len(_cache) > 16:
                    _cache.clear()
                _cache[key] = got
    return got[1]
