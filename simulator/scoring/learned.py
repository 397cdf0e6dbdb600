"""The learned half of the hybrid judge: one logistic regression per criterion.

The rules read what a reply does and point at the words that do it; they miss acts said in
words nobody wrote a pattern for. A linear model trained on the labelled corpus
(``rubrics/corpus/``) reads the wording as a whole ("表現の傾向"): character n-grams, the
analyser's predicates with their polarity, and the rules' own conclusions. It ships as a
plain JSON file (``rubrics/model/hybrid.json``): vocabulary, weights (float32, base64),
temperatures, the policy that decides when it may overrule the rules, the labelled examples
its reasons quote, and the hash of the corpus it was trained on. Prediction is one
dictionary look-up per feature and one small numpy product; only ``python -m simulator
judge train`` needs scikit-learn.
"""

from __future__ import annotations

import base64
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
FORMAT = 2
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


RULE_WEIGHT = 0.5  # the rules' block beside the wording's (chosen by cross-validation, BENCHMARKS.md)


def rule_block(assessment: Any) -> dict[str, float]:
    """What the rules concluded, as features: each criterion's label and the kinds of
    finding behind it (「deferral」「refusal」「handover」…). Trained on replies the rules were
    never tuned on, the model learns how far to trust each reading."""
    keys: set[str] = set()
    for cid, cs in assessment.scores.items():
        c = getattr(cid, "value", cid)
        if cs.label_value is not None:
            keys.add(f"rule:{c}:{cs.label_value}")
        for e in cs.evidence:
            keys.add(f"sig:{c}:{e.signal}")
    if assessment.concession:
        keys.add("rule:concession")
    if assessment.hostile:
        keys.add("rule:hostile")
    if not keys:
        return {}
    z = RULE_WEIGHT / math.sqrt(len(keys))
    return dict.fromkeys(keys, z)


def features(reply: str, analysis: Any = None, ordered: bool = True, rules: Any = None) -> dict[str, float]:
    """Up to three L2-normalised blocks of binary features.

    - character n-grams of the reply, and of its last sentence apart, because a reply that
      starts firm and gives in at the end (「…できかねます。ただ今回だけは対応します」) is decided
      by how it ends;
    - the analyser's predicates with their polarity (「値引き」 negated vs promised, the same
      negation reading the rules use) and the content words' lemmas, so that
      「お値引きはいたしかねます」 and 「お値引きいたします」 are far apart although they share
      most characters;
    - with ``rules`` (the rule judge's assessment), its conclusions (:func:`rule_block`).
    """
    from simulator.scoring.analysis import analyse

    t = reply_text(reply)
    s = f"^{t}$"
    lo, hi = NGRAMS
    keys = {"r:" + s[i : i + n] for n in range(lo, hi + 1) for i in range(len(s) - n + 1)}
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
    if rules is not None:
        out.update(rule_block(rules))
    return dict(sorted(out.items())) if ordered else out


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
        import numpy as np

        # one row of weights per n-gram, all criteria side by side: a reply costs one
        # dictionary look-up per n-gram and one small matrix product. The weights are stored
        # as little-endian float32 in base64 (``coef_f32``), which parses a hundred times
        # faster than the same numbers as JSON.
        self._slices: list[tuple[str, int, int]] = []
        blocks = []
        width = 0
        n_vocab = len(data["vocab"])
        for cid, c in self.criteria.items():
            k = len(c["intercept"])
            self._slices.append((cid, width, width + k))
            width += k
            w = np.frombuffer(base64.b64decode(c["coef_f32"]), dtype="<f4").reshape(n_vocab, k)
            blocks.append(w.astype(np.float64))
        self._w = np.hstack(blocks)
        self._bias = np.array([b for c in self.criteria.values() for b in c["intercept"]], dtype=np.float64)
        self._grams: list[frozenset[str]] = []
        self._postings: dict[tuple[str, int], dict[str, list[int]]] = {}
        self._indexed = threading.Event()

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

    def predict(self, reply: str, analysis: Any = None, rules: Any = None) -> dict[str, Prediction]:
        import numpy as np

        vocab = self.vocab
        idx: list[int] = []
        vals: list[float] = []
        for k, v in features(reply, analysis, ordered=False, rules=rules).items():
            i = vocab.get(k)
            if i is not None:
                idx.append(i)
                vals.append(v)
        acc = self._bias + (np.asarray(vals) @ self._w[idx] if idx else 0.0)
        out: dict[str, Prediction] = {}
        for cid, lo, hi in self._slices:
            c = self.criteria[cid]
            classes: list[int] = c["classes"]
            logits = [float(x) for x in acc[lo:hi]]
            if len(classes) == 2 and len(logits) == 1:
                logits = [0.0, logits[0]]
            t = float(c.get("temperature", 1.0))
            out[cid] = Prediction(dict(zip(classes, _softmax([x / t for x in logits]), strict=True)))
        return out

    def index_examples(self) -> None:
        """Character-bigram postings of the labelled examples, one index per criterion and
        label, for :meth:`nearest` (built once, in the background at start-up)."""
        grams = [_bigrams(e["reply"]) for e in self.examples]
        df: dict[str, int] = {}
        for g in grams:
            for b in g:
                df[b] = df.get(b, 0) + 1
        postings: dict[tuple[str, int], dict[str, list[int]]] = {}
        for i, (e, g) in enumerate(zip(self.examples, grams, strict=True)):
            for c, lab in e["labels"].items():
                idx = postings.setdefault((c, int(lab)), {})
                for b in g:
                    if df[b] <= _COMMON:  # 「ます」「。」 say nothing about which reply is alike
                        idx.setdefault(b, []).append(i)
        self._grams, self._postings = grams, postings
        self._indexed.set()

    def nearest(self, reply: str, criterion: str, label: int, n: int = 2) -> list[str]:
        """The labelled replies most like this one (character-bigram Jaccard) that carry
        ``label`` on ``criterion``."""
        if not self._indexed.is_set() and not self._indexed.wait(timeout=5.0):
            return []
        mine = _bigrams(reply)
        index = self._postings.get((criterion, label), {})
        # the reply's rarest bigrams are the ones that say which example is alike
        # (ties broken by the bigram itself: set order changes from one process to the next)
        probe = sorted((b for b in mine if b in index), key=lambda b: (len(index[b]), b))[:_PROBE]
        shared: dict[int, int] = {}
        for b in probe:
            for i in index[b]:
                shared[i] = shared.get(i, 0) + 1
        scored = sorted(
            ((k / (len(mine) + len(self._grams[i]) - k), -i) for i, k in shared.items()), reverse=True
        )
        return [self.examples[-i]["reply"] for _, i in scored[:n]]


_PROBE = 24
_COMMON = 150  # bigrams in more examples than this are left out of the likeness


def _bigrams(text: str) -> frozenset[str]:
    t = reply_text(text)
    return frozenset(t[i : i + 2] for i in range(len(t) - 1))


_model: LearnedModel | None = None
_lock = threading.Lock()
_index_now = threading.Event()  # cleared by the app while it starts (defer_indexing)
_index_now.set()


def defer_indexing() -> None:
    """The app's start-up: the examples' index waits for :func:`start_indexing` (it holds the
    interpreter for about half a second, which the first page would wait for)."""
    _index_now.clear()


def start_indexing(wait: float = 0.0) -> None:
    """Let the examples' index be built; with ``wait``, return once it is (if the model is loaded)."""
    _index_now.set()
    if wait and _model is not None:
        _model._indexed.wait(timeout=wait)


def _index_when_allowed(m: LearnedModel) -> None:
    _index_now.wait(timeout=60)
    m.index_examples()


def shipped_model() -> LearnedModel:
    """The model file in the repository, loaded on first use and kept."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                m = LearnedModel.load()
                # the examples' index is only needed to explain an overruled score: built in
                # the background (after the app's start-up, when it defers it)
                threading.Thread(
                    target=_index_when_allowed, args=(m,), name="nearest-index", daemon=True
                ).start()
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
