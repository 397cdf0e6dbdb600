"""The persona catalogue: every version in the database, shared by every app instance.

The shipped files (``personas/*.yaml``) seed it at start; a persona written in the studio or
imported is validated by the same validator as ``personas validate`` and stored as a new,
immutable version. Trainees are offered the latest *published* version of each persona; a
session keeps the version it ran (``Session.persona_version``), and its report is built
from that version.
"""

from __future__ import annotations

import difflib
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import DataFileError
from simulator.library import (
    data_files,
    load_persona,
    parse_persona,
    parse_yaml_text,
    personas,
    validate_persona,
)
from simulator.models import Persona
from simulator.paths import PERSONAS_DIR
from simulator.store import NotFound, Store, User

CACHE_SECONDS = 5.0  # another instance's publish shows here within this time
# (persona id, version, text hash) → the parsed version, shared by every catalogue of the process
_PARSED: dict[Any, Persona] = {}


def dump_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


class PersonaCatalog:
    def __init__(self, store: Store, files: Path = PERSONAS_DIR) -> None:
        self.store = store
        self.files = files
        self._parsed = _PARSED  # versions never change: parsed once per process
        # ... and a stored version of this database is read from it once (every turn asks)
        self._versions: dict[tuple[str, int], Persona] = {}
        self._published: tuple[float, dict[str, Persona]] | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ seed

    def seed(self) -> int:
        """Store each shipped file's version that the database does not have yet (published)."""
        added = 0
        have = {(r["persona_id"], r["version"]) for r in self.store.persona_versions()}
        shipped = personas(self.files)  # a broken shipped file stops the start, naming file and field
        for path in data_files(self.files):
            p = shipped.get(path.stem) or load_persona(path)
            text = path.read_text(encoding="utf-8")
            # the stored copy of a shipped file is this text: it is not parsed a second time
            self._parsed.setdefault((p.id, p.version, hash(text)), p)
            if (p.id, p.version) in have:
                continue
            added += self.store.add_persona_version(
                p.id, p.version, text, title=p.title, scenario=p.scenario.value,
                published=True, source="file", note=f"同梱ファイル {path.name}",
            )  # fmt: skip
        self._published = None
        return added

    # ------------------------------------------------------------------ read

    def get(self, persona_id: str, version: int | None = None) -> Persona:
        """A version (the latest published one when ``version`` is None)."""
        if version is None:
            try:
                return self.published()[persona_id]
            except KeyError:
                raise KeyError(
                    f"ペルソナ「{persona_id}」は公開されていません / not published: {persona_id!r}"
                ) from None
        hit = self._versions.get((persona_id, version))
        if hit is not None:
            return hit
        text = self.store.persona_yaml(persona_id, version)
        if text is None:
            raise KeyError(f"ペルソナ「{persona_id}」v{version} はありません / unknown persona version")
        key = (persona_id, version, hash(text))
        hit = self._parsed.get(key)
        if hit is None:
            hit = self._parsed[key] = parse_persona(text, f"{persona_id} v{version}")
        self._versions[(persona_id, version)] = hit
        return hit

    def published(self) -> dict[str, Persona]:
        """The latest published version of each persona, by id."""
        with self._lock:
            if self._published is not None and time.monotonic() - self._published[0] < CACHE_SECONDS:
                return self._published[1]
        latest: dict[str, int] = {}
        for r in self.store.persona_versions(published_only=True):
            latest[r["persona_id"]] = max(latest.get(r["persona_id"], 0), r["version"])
        out = {pid: self.get(pid, v) for pid, v in sorted(latest.items())}
        with self._lock:
            self._published = (time.monotonic(), out)
        return out

    def all_latest(self) -> dict[str, Persona]:
        """The latest version of every stored persona, published or not (for grouping sessions)."""
        latest: dict[str, int] = {}
        for r in self.store.persona_versions():
            latest[r["persona_id"]] = max(latest.get(r["persona_id"], 0), r["version"])
        return {pid: self.get(pid, v) for pid, v in sorted(latest.items())}

    def versions(self, persona_id: str) -> list[dict[str, Any]]:
        return self.store.persona_versions(persona_id)

    def all_ids(self) -> list[str]:
        return sorted({r["persona_id"] for r in self.store.persona_versions()})

    def yaml_of(self, persona_id: str, version: int) -> str:
        text = self.store.persona_yaml(persona_id, version)
        if text is None:
            raise NotFound(f"{persona_id} v{version}")
        return text

    def diff(self, persona_id: str, old: int, new: int) -> str:
        a = self.yaml_of(persona_id, old).splitlines(keepends=True)
        b = self.yaml_of(persona_id, new).splitlines(keepends=True)
        return "".join(difflib.unified_diff(a, b, f"{persona_id} v{old}", f"{persona_id} v{new}"))

    # ------------------------------------------------------------------ write

    def next_version(self, persona_id: str) -> int:
        return max((r["version"] for r in self.versions(persona_id)), default=0) + 1

    def save(self, text: str, author: User | None, *, source: str = "studio", note: str = "") -> Persona:
        """Validate ``text`` and store it as the persona's next version (not yet published).
        The version written in the text is replaced by the next free one."""
        data = parse_yaml_text(text, source)
        persona = validate_persona(data, source)
        for _attempt in range(5):  # another instance may take the same number at once
            version = self.next_version(persona.id)
            stored = dump_yaml({**data, "version": version})  # the author's own structure, renumbered
            final = parse_persona(stored, f"{persona.id} v{version}")
            if self.store.add_persona_version(
                persona.id, version, stored, title=final.title, scenario=final.scenario.value,
                published=False, source=source, note=note, created_by=author.id if author else None,
            ):  # fmt: skip
                self._parsed[(persona.id, version, hash(stored))] = final
                return final
        raise DataFileError(persona.id, "version", "保存できませんでした（版番号の競合）", "version conflict")

    def publish(self, persona_id: str, version: int, published: bool = True) -> None:
        self.get(persona_id, version)  # it must parse before trainees can be offered it
        self.store.set_published(persona_id, version, published)
        with self._lock:
            self._published = None
