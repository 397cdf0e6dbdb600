"""The learned half of the hybrid judge: one linear classifier per criterion over character n-grams.

The rules read what a reply does and point at the words that do it; they miss acts said in
words nobody wrote a pattern for. A character n-gram model trained on the labelled corpus
(``rubrics/corpus/``) catches the tendency of those words ("表現の傾向") without a pattern per
phrase. It ships as a plain JSON file (``rubrics/model/hybrid.json``): weights, temperatures,
the policy that decides when it may overrule the rules, and the corpus hash it was trained on.
Prediction is a dictionary look-up per n-gram, so loading it needs neither numpy nor
scikit-learn; only ``python -m simulator judge train`` does.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.paths import RUBRICS_DIR

MODEL_PATH = RUBRICS_DIR / "model" / "hybrid.json"
CORPUS_DIR = RUBRICS_DIR / "corpus"
FORMAT = 1
NGRAMS = (1, 3)
_SENT = re.compile(r"[^。！？!?\n]+[。！？!?\n]*")
_LATIN_RUN = re.compile(r"[A-Za-z0-9]{12,}")


def reply_text(text: str) -> str:
    """What the model reads: NFKC, lower case, runs of Latin padding dropped."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = _LATIN_RUN.sub(" ", t)
    return " ".join(t.split())


def _polarity(p: Any) -> str:
    """One label for what a predicate does: prohibits, negates, asks, requests, supposes, or affirms."""
    if p.prohibition:
        return "X"
    if p.neg or p.kaneru:
        return "N"
    if p.question:
        return "Q"
    if p.request:
        return "R"
    if p.conditional:
        return "C"
    if p.past:
        return "P"
    return "A"


def features(reply: str, analysis: Any = None) -> dict[str, float]:
    """Two L2-normalised blocks of binary features.

    - character n-grams of the reply, and of its last sentence apart, because a reply that
      starts firm and gives in at the end (「…できかねます。ただ今回だけは対応します」) is decided
      by how it ends;
    - the analyser's predicates with their polarity (「値引き」 negated vs promised, the same
      negation reading the rules use) and the content words' lemmas, so that
      「お値引きはいたしかねます」 and 「お値引きいたします」 are far apart although they share
      most characters.
    """
    from simulator.scoring.analysis import analyse

    t = reply_text(reply)
    keys: set[str] = set()
    s = f"^{t}$"
    lo, hi = NGRAMS
    for n in range(lo, hi + 1):
        for i in range(len(s) - n + 1):
            keys.add("r:" + s[i : i + n])
    sents = _SENT.findall(t)
    if len(sents) >= 2:
        last = f"^{sents[-1].strip()}$"
        for n in (2, 3):
            for i in range(len(last) - n + 1):
                keys.add("l:" + last[i : i + n])
    out: dict[str, float] = {}
    if keys:
        z = 1.0 / math.sqrt(len(keys))
        out.update(dict.fromkeys(keys, z))
    a = analysis if analysis is not None else analyse(_LATIN_RUN.sub(" ", reply))
    sem: set[str] = set()
    last_s = len(a.sentences) - 1
    for p in a.predicates:
        pol = _polarity(p)
        sem.add(f"p:{p.lemma}:{pol}")
        sem.add(f"ph:{p.head}:{pol}")
        sem.add(f"pp:{pol}")
        if p.sentence == last_s:
            sem.add(f"pl:{p.lemma}:{pol}")
    for tok in a.tokens:
        if tok.pos1 in ("名詞", "動詞", "形容詞", "副詞"):
            sem.add(f"t:{tok.lemma}")
    if sem:
        z = 1.0 / math.sqrt(len(sem))
        out.update(dict.fromkeys(sem, z))
    return dict(sorted(out.items()))


def _softmax(xs: list[float]) -> list[float]:
    m = max(xs)
    es = [math.exp(x - m) for x in xs]
    s = sum(es)
    return [e / s for e in es]


@dataclass(frozen=True)
class Prediction:
    """One criterion's calibrated label probabilities (labels as in LABELING.md)."""

    probs: dict[int, float]

    @property
    def label(self) -> int:
        return max(self.probs, key=lambda k: self.probs[k])

    @property
    def confidence(self) -> float:
        return self.probs[self.label]


class LearnedModel:
    """The shipped classifier, loaded once."""

    def __init__(self, data: dict[str, Any], path: Path | None = None) -> None:
        if data.get("format") != FORMAT:
            raise ValueError(
                f"{path}: 判定モデルの形式が違います / unknown model format {data.get('format')!r}"
            )
        self.path = path
        self.data = data
        self.vocab: dict[str, int] = {k: i for i, k in enumerate(data["vocab"])}
        self.criteria: dict[str, dict[str, Any]] = data["criteria"]
        self.policy: dict[str, Any] = data["policy"]
        self.corpus_sha256: str = data["corpus_sha256"]
        self.examples: list[dict[str, Any]] = data.get("examples", [])
        self._grams: list[frozenset[str]] | None = None

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> LearnedModel:
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise FileNotFoundError(
                f"{path}: 判定モデルがありません。`python -m simulator judge train` で作成してください "
                f"/ model file missing ({e})"
            ) from None
        m = cls(json.loads(raw), path)
        m.file_sha256 = hashlib.sha256(raw).hexdigest()
        return m

    file_sha256: str = ""

    def predict(self, reply: str, analysis: Any = None) -> dict[str, Prediction]:
        feats = features(reply, analysis)
        idx = [(self.vocab[k], v) for k, v in feats.items() if k in self.vocab]
        out: dict[str, Prediction] = {}
        for cid, c in self.criteria.items():
            classes: list[int] = c["classes"]
            coef: list[list[float]] = c["coef"]  # aligned with vocab: one weight per logit
            logits = list(c["intercept"])
            for i, v in idx:
                for k, w in enumerate(coef[i]):
                    logits[k] += w * v
            if len(classes) == 2 and len(logits) == 1:
                logits = [0.0, logits[0]]
            t = float(c.get("temperature", 1.0))
            probs = _softmax([x / t for x in logits])
            out[cid] = Prediction(dict(zip(classes, probs, strict=True)))
        return out

    def nearest(self, reply: str, criterion: str, label: int, n: int = 2) -> list[str]:
        """The labelled replies most like this one that carry ``label`` on ``criterion``."""
        if self._grams is None:
            self._grams = [_bigrams(e["reply"]) for e in self.examples]
        mine = _bigrams(reply)
        if not mine:
            return []
        scored = []
        for e, g in zip(self.examples, self._grams, strict=True):
            if e["labels"].get(criterion) != label or not g:
                continue
            scored.append((len(mine & g) / len(mine | g), e["reply"]))
        scored.sort(key=lambda x: -x[0])
        return [r for _, r in scored[:n]]


def _bigrams(text: str) -> frozenset[str]:
    t = reply_text(text)
    return frozenset(t[i : i + 2] for i in range(len(t) - 1))


_model: LearnedModel | None = None
_lock = threading.Lock()


def shipped_model() -> LearnedModel:
    """The model file in the repository, loaded on first use and kept."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                m = LearnedModel.load()
                m.predict("はい")  # build the weight rows now, not on a trainee's first turn
                _model = m
    return _model


# ---------------------------------------------------------------------------- corpus


def corpus_files(directory: Path = CORPUS_DIR) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


def load_corpus(directory: Path = CORPUS_DIR) -> list[dict[str, Any]]:
    """Every labelled record, in file and line order; ``_file`` names the batch file."""
    recs: list[dict[str, Any]] = []
    for f in corpus_files(directory):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{f}:{n}: JSON として読めません / bad JSON ({e})") from None
            rec["_file"] = f.name
            recs.append(rec)
    return recs


def corpus_sha256(directory: Path = CORPUS_DIR) -> str:
    h = hashlib.sha256()
    meta = directory / "batches.json"
    if meta.exists():
        h.update(meta.read_bytes())
    for f in corpus_files(directory):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()
