"""What produced a score: judge ids with a content hash, and the rubric version lock.

A judge id is ``rules@<hash>`` or ``hybrid@<hash>``: the hash covers the rubric's content,
the judging code and (for the hybrid) the model file, so two scores carry the same id only
when the same judge under the same rubric produced them. ``rubrics/versions.lock`` records
the content hash of each rubric version; a test fails when the content changes and the
version does not (`python -m simulator rubrics lock` after raising ``version``).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from simulator.models import Rubric
from simulator.paths import RUBRICS_DIR

LOCK_PATH = RUBRICS_DIR / "versions.lock"
_CODE_FILES = ("scoring/rules.py", "scoring/analysis.py", "scoring/lexicon.py", "scoring/hybrid.py",
               "scoring/learned.py", "text.py")  # fmt: skip


def rubric_content_hash(rubric: Rubric) -> str:
    """sha256 of the rubric's content without its version number."""
    data = rubric.model_dump(mode="json", by_alias=True, exclude={"version"})
    blob = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


@lru_cache(maxsize=1)
def code_hash() -> str:
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for rel in _CODE_FILES:
        p = root / rel
        h.update(rel.encode())
        h.update(p.read_bytes() if p.exists() else b"")
    return h.hexdigest()


def judge_id(kind: str, rubric: Rubric, model_sha256: str = "") -> str:
    h = hashlib.sha256(
        f"{rubric.id}:{rubric.version}:{rubric_content_hash(rubric)}:{code_hash()}:{model_sha256}".encode()
    ).hexdigest()
    return f"{kind}@{h[:10]}"


def read_lock(path: Path = LOCK_PATH) -> dict[str, dict[str, object]]:
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def lock_problem(rubric: Rubric, path: Path = LOCK_PATH) -> str:
    """Why the rubric does not match its lock entry, or "" when it does."""
    entry = read_lock(path).get(rubric.id)
    content = rubric_content_hash(rubric)
    if entry is None:
        return f"{rubric.id}: versions.lock に記録がありません / not in versions.lock (run `python -m simulator rubrics lock`)"
    versions = entry.get("versions", {})
    assert isinstance(versions, dict)
    known = versions.get(str(rubric.version))
    if known is None:
        return (f"{rubric.id}: version {rubric.version} が versions.lock にありません "
                f"/ version not locked (run `python -m simulator rubrics lock`)")  # fmt: skip
    if known != content:
        return (f"{rubric.id}: 内容が version {rubric.version} の記録と違います。version を上げて "
                f"`python -m simulator rubrics lock` を実行してください / content changed without a version bump")  # fmt: skip
    return ""


def write_lock(rubrics: list[Rubric], path: Path = LOCK_PATH) -> list[str]:
    """Record each rubric's current version; refuses a changed content under an old version."""
    data = read_lock(path)
    errors = []
    for r in rubrics:
        entry = data.setdefault(r.id, {"versions": {}})
        versions = entry["versions"]
        assert isinstance(versions, dict)
        content = rubric_content_hash(r)
        old = versions.get(str(r.version))
        if old is not None and old != content:
            errors.append(
                f"{r.id}: version {r.version} は別の内容で記録済みです。version を上げてください / bump the version"
            )
            continue
        versions[str(r.version)] = content
    if not errors:
        path.write_text(
            json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    return errors


class VersionedJudge:
    """What every offline judge shares: its id, ``<kind>@<hash>``, cached per rubric version."""

    kind = ""

    def _model_sha256(self) -> str:
        return ""

    def id_for(self, rubric: Rubric) -> str:
        ids: dict[tuple[str, int], str] = self.__dict__.setdefault("_ids", {})
        key = (rubric.id, rubric.version)
        if key not in ids:
            ids[key] = judge_id(self.kind, rubric, self._model_sha256())
        return ids[key]

    @property
    def name(self) -> str:
        from simulator.library import get_rubric

        return self.id_for(get_rubric())
