"""Catch a persona line that broke character before a trainee sees it.

A heuristic net, not a classifier: it looks for the failures chat models actually show in
role-play (speaking as an assistant, switching to the employee's side, leaking the prompt,
answering in English, running on) and for explicit sexual wording, which the training
material must never contain. A rejected line is replaced by the scripted voice.
"""

from __future__ import annotations

import re
import unicodedata

from simulator.models import Persona

MAX_CHARS = 300

# Narrow on purpose: an IT client may well say 「ChatGPTで作れるだろ」 or 「アシスタントの子」.
_ASSISTANT = re.compile(
    "|".join(
        [
            r"aiとして",
            r"(ai|バーチャル|対話型)アシスタント",
            r"アシスタント(として|です|なので|ですので|の(私|わたし))",
            r"(私|わたし|僕)は[^。!?！？]{0,8}(ai|人工知能|アシスタント|モデル)(です|なので|だから|として)",
            r"人工知能(として|です|なので)",
            r"言語モデル",
            r"(openai|chatgpt)(によって|が開発|の(モデル|アシスタント))",
            r"\bas an ai\b",
            r"\bi'?m an ai\b",
            r"\bi am an ai\b",
            r"language model",
            r"お手伝いでき(ること|ます|れば)",
            r"何か(お手伝い|ご質問)",
            r"ロール・?プレ[イー]",
            r"(この|本)(研修|シミュレーション|練習|訓練)",
            r"(役|キャラクター)を(演じ|降り|やめ)",
        ]
    )
)

# What only the employee's side says: the trainee's refusals, escalations and self-intros.
_EMPLOYEE_SIDE = re.compile(
    "|".join(
        [
            r"申し訳(ございません|ありません)が[、,]?\s*(弊社|当社)では",
            r"(弊社|当社)では(対応|お受け)(いたしかね|でき(かね|ません))",
            r"契約の範囲外(となります|でございます|のため[、,]?(お受け|対応))",
            r"上長に(報告|相談|確認)(の上|のうえ|いたします|させていただ)",
            r"ご(理解|了承)(のほど|を)?(いただけますと|いただきますよう|賜りますよう)",
            r"(私|わたくし)(は|、)\s*overtech",
            r"overtech(株式会社)?の[^。!?！？]{0,10}(と申します|でございます)",
            r"^(担当者?|受講者|従業員|社員|overtech|assistant|user|ai)\s*[:：]",
        ]
    )
)
_SELF_AS_HANDLER = re.compile(r"(担当者?)(の|である)(私|わたくし)|(私|わたくし)(が|は)(担当者|ご担当)")

_LEAK = re.compile(
    "|".join(
        [
            r"system\s*prompt",
            r"システムプロンプト",
            r"プロンプト",
            r"(演出|ディレクター|監督)の?(指示|メモ|ノート)",
            r"(与えられた|受けた|これまでの|上記の|以下の)(指示|設定|ルール)",
            r"指示に従",
            r"(戦術|tactic)の?段階",
            r"圧力の強さ",
            r"\bpressure\b",
            r"trainee",
            r"</?[a-z_]+>",
            r"^#",
        ]
    ),
    re.MULTILINE,
)

# Suggestion is allowed in a sexual-harassment scene; these words are not.
_EXPLICIT = re.compile(
    r"セックス|性行為|性交|挿入|全裸|裸になっ|裸を見せ|乳首|性器|陰部|ペニス|ヴァギナ|おっぱい|胸を揉|"
    r"下着を脱|抱かせ|やらせろ|犯す|犯して"
)

_KANA = re.compile(r"[\u3040-\u30ff]")
_KANJI = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_LATIN = re.compile(r"[a-z]")


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def clean_persona_line(text: str, persona: Persona, *, final: bool = True) -> str:
    """The model's output as one line of dialogue: no reasoning block, line breaks or
    leading speaker label.

    Prefix-stable: cleaning a prefix of the output (``final=False``) gives a prefix of the
    cleaned whole, which is what lets a streamed line be released sentence by sentence.
    (So wrapping quotes are kept: whether a leading 「 wraps the whole line is only known
    at the end.)
    """
    text = text.lstrip()
    if text.startswith("<think>"):
        # A reasoning model served without a reasoning parser: drop its thoughts; until
        # they end there is nothing to show.
        end = text.find("</think>")
        if end < 0:
            return ""
        text = text[end + len("</think>") :].lstrip()
    line = re.sub(r"\s*\n\s*", "", text)
    for label in _labels(persona):
        if line.startswith(label):
            line = line[len(label) :].lstrip()
            break
    return line.rstrip() if final else line


def _labels(persona: Persona) -> list[str]:
    names = {persona.client.name, persona.client.name.split()[0], "取引先", "相手"}
    return [n + sep for n in sorted(names, key=len, reverse=True) for sep in ("：", ":")]


def _overlaps(text: str, note: str, window: int = 12) -> bool:
    """True when ``text`` repeats a run of ``window`` characters of ``note`` verbatim."""
    n = _norm(note)
    return any(n[i : i + window] in text for i in range(0, max(0, len(n) - window + 1)))


def check_persona_line(text: str, persona: Persona, note: str = "") -> str | None:
    """None when the line can be shown; else a short Japanese reason for rejecting it.

    ``note`` is the director's note for the turn: repeating it verbatim is a prompt leak.
    """
    if not text.strip():
        return "応答が空です"
    if len(text) > MAX_CHARS:
        return f"応答が長すぎます（{len(text)}文字）"
    t = _norm(text)
    kana, kanji, latin = len(_KANA.findall(t)), len(_KANJI.findall(t)), len(_LATIN.findall(t))
    if kana + kanji == 0 or latin > kana + kanji or (kana == 0 and len(t) >= 15):
        return "日本語の応答ではありません"
    if _ASSISTANT.search(t):
        return "AIアシスタントとしての発言になっています"
    if _EMPLOYEE_SIDE.search(t) or ("担当" not in persona.client.role and _SELF_AS_HANDLER.search(t)):
        return "取引先ではなく担当者（受講者）の立場で話しています"
    if _LEAK.search(t) or (note and _overlaps(t, note)):
        return "指示やプロンプトの内容が漏れています"
    if _EXPLICIT.search(t):
        return "露骨な性的表現が含まれています"
    return None
