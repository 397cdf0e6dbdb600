"""The domain model: personas, rubrics, assessments, turns and sessions.

Every model forbids unknown fields so that a typo in a persona or rubric file is an
error that names the field, not a silently ignored key.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class ScenarioId(StrEnum):
    """The manual's example categories (LABELING.md)."""

    verbal_abuse = "verbal_abuse"
    out_of_contract_demand = "out_of_contract_demand"
    prolonged_detention = "prolonged_detention"
    sexual_harassment = "sexual_harassment"
    contract_termination_threat = "contract_termination_threat"
    phone_harassment = "phone_harassment"
    sns_defamation = "sns_defamation"


SCENARIO_LABELS: dict[ScenarioId, str] = {
    ScenarioId.verbal_abuse: "取引先担当者による暴言・威圧",
    ScenarioId.out_of_contract_demand: "契約外の対応要求",
    ScenarioId.prolonged_detention: "業務の強要・長時間の拘束",
    ScenarioId.sexual_harassment: "セクシャルハラスメント",
    ScenarioId.contract_termination_threat: "契約解除をほのめかした嫌がらせ",
    ScenarioId.phone_harassment: "電話対応時のカスタマーハラスメント",
    ScenarioId.sns_defamation: "SNS等での誹謗中傷",
}


class CriterionId(StrEnum):
    """The five rubric criteria (LABELING.md)."""

    calm = "calm"
    firm = "firm"
    contract = "contract"
    record = "record"
    escalation = "escalation"


CRITERIA: tuple[CriterionId, ...] = tuple(CriterionId)

CRITERION_LABELS: dict[CriterionId, str] = {
    CriterionId.calm: "冷静",
    CriterionId.firm: "毅然",
    CriterionId.contract: "契約に基づく主張",
    CriterionId.record: "記録",
    CriterionId.escalation: "エスカレーション",
}


class Difficulty(StrEnum):
    standard = "standard"
    hard = "hard"


DIFFICULTY_LABELS: dict[Difficulty, str] = {Difficulty.standard: "標準", Difficulty.hard: "強硬"}

Channel = Literal["対面", "電話", "オンライン会議", "メール・SNS"]


class Reaction(StrEnum):
    """How the trainee's last reply read to the client; chooses the scripted line."""

    conceded = "conceded"
    held_firm = "held_firm"
    hostile = "hostile"
    escalated = "escalated"
    neutral = "neutral"


REACTION_LABELS: dict[Reaction, str] = {
    Reaction.conceded: "譲歩した",
    Reaction.held_firm: "毅然と対応した",
    Reaction.hostile: "感情的に返した",
    Reaction.escalated: "エスカレーションした",
    Reaction.neutral: "どちらでもない",
}


class Outcome(StrEnum):
    in_progress = "in_progress"
    resolved = "resolved"
    escalated = "escalated"
    ended_by_trainee = "ended_by_trainee"
    safe_exit = "safe_exit"
    client_left = "client_left"
    max_turns = "max_turns"
    stopped = "stopped"


OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.in_progress: "対応中",
    Outcome.resolved: "相手が引き下がった",
    Outcome.escalated: "上長・窓口へ引き継いだ",
    Outcome.ended_by_trainee: "時間・方針に基づき対応を終了した",
    Outcome.safe_exit: "その場を離れ安全を確保した",
    Outcome.client_left: "相手が立ち去った",
    Outcome.max_turns: "規定ターン数に達した",
    Outcome.stopped: "練習を途中で終了した",
}

# How an ending reads depends on the channel: a caller hangs up, a visitor stands up.
_CHANNEL_OUTCOME_LABELS: dict[str, dict[Outcome, str]] = {
    "電話": {
        Outcome.client_left: "相手が電話を切った",
        Outcome.ended_by_trainee: "時間・方針に基づき通話を終えた",
        Outcome.safe_exit: "通話を終えて身の安全を確保した",
    },
    "オンライン会議": {
        Outcome.client_left: "相手が会議から退出した",
        Outcome.ended_by_trainee: "時間・方針に基づき会議を終えた",
        Outcome.safe_exit: "会議を終えて身の安全を確保した",
    },
    "メール・SNS": {
        Outcome.client_left: "相手がやり取りを打ち切った",
        Outcome.ended_by_trainee: "方針に基づきやり取りを終えた",
        Outcome.safe_exit: "やり取りを終えて身の安全を確保した",
    },
}


def outcome_label(outcome: Outcome, channel: str | None = None) -> str:
    """The ending in words that fit the channel (対面 by default)."""
    return _CHANNEL_OUTCOME_LABELS.get(channel or "", {}).get(outcome) or OUTCOME_LABELS[outcome]


NonEmpty = Annotated[str, Field(min_length=1)]

# --------------------------------------------------------------------------- dialogue vocabulary
#
# What the trainee did, as the director records it from the judge's typed findings, and what
# a persona line may require, forbid (``unless``) or answer. A closed set: a misspelt fact in a
# persona file is an error naming the file and the field.

# the kinds of trainee move a stage can answer (``answers``); the first six are required
ANSWER_MOVES: tuple[str, ...] = (
    "question",  # asked what exactly the client wants
    "contract",  # cited the contract, a policy or the agreed scope
    "recording",  # announced recording / keeping a record / putting it in writing
    "time_limit",  # announced a time limit
    "escalation",  # a superior, the desk, head office or a company-to-company talk
    "apology",  # apologised (for what is factual, or too much)
    "estimate",  # offered a paid estimate / a separate contract
    "legal",  # the police, a lawyer, legal steps
    "leave",  # announced leaving / ending the meeting or call
)
REQUIRED_ANSWERS: tuple[str, ...] = ANSWER_MOVES[:6]
# what the trainee can give in to (the rubric's demand types) and what each counts as
GIVE_KINDS: tuple[str, ...] = ("contact", "promise", "apology", "meeting")
# what the trainee can announce (escalation kinds and recording, split by who takes it on)
ANNOUNCE_KINDS: tuple[str, ...] = (
    "recording", "audio", "writing", "time_limit", "superior", "desk", "legal", "police", "leaving",
)  # fmt: skip
# facts a line may name: derived by the director from what happened
EVENT_FACTS: frozenset[str] = frozenset(
    {"asked_demand", "asked_twice", "cited_contract", "offered_estimate", "apologised", "laughed",
     "was_hostile", "refused", "deferred", "conceded", "conceded_all", "held_firm_throughout",
     "just_conceded", "just_refused", "just_asked", "just_said_little"}
    | {f"gave_{k}" for k in GIVE_KINDS}
    | {f"just_gave_{k}" for k in GIVE_KINDS}
    | {f"announced_{k}" for k in ANNOUNCE_KINDS}
    | {f"just_announced_{k}" for k in ANNOUNCE_KINDS}
)  # fmt: skip
# facts about one demand: ``granted:<demand id>`` etc.
DEMAND_FACTS: tuple[str, ...] = ("made", "granted", "refused", "deferred", "pending")
FactName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(:[a-z0-9_]+)?$")]


class Line(Strict):
    """One line of the client's, with the conditions under which it may be spoken.

    Written in a persona file either as plain text or as a mapping::

        - text: じゃあ今LINE交換しよ。
          unless: [gave_contact]
          sets: [asked_contact]
    """

    text: NonEmpty
    requires: list[FactName] = Field(default_factory=list, description="話す前に成り立っているべき事実")
    unless: list[FactName] = Field(default_factory=list, description="成り立っていたら話さない事実")
    sets: list[FactName] = Field(default_factory=list, description="話した後に成り立つ事実（ペルソナ独自）")

    @property
    def conditional(self) -> bool:
        return bool(self.requires or self.unless)


def _as_line(v: object) -> object:
    return {"text": v} if isinstance(v, str) else v


LineItem = Annotated[Line, BeforeValidator(_as_line)]
Lines = Annotated[list[LineItem], Field(min_length=3)]


# --------------------------------------------------------------------------- persona


class Client(Strict):
    name: NonEmpty = Field(description="相手の氏名（架空）")
    company: NonEmpty = Field(description="相手の会社名（架空）")
    industry: NonEmpty = Field(description="業種")
    role: NonEmpty = Field(description="役職・立場")


class ManualPassage(Strict):
    section: NonEmpty = Field(description="マニュアルの節の見出し")
    quote: NonEmpty = Field(description="このペルソナが再現するマニュアルの一文（原文のまま）")


class Demand(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    text: NonEmpty = Field(description="不当な要求の内容")
    why_improper: NonEmpty = Field(description="なぜ不当か（契約・方針・マニュアルに照らして）")
    keywords: list[NonEmpty] = Field(default_factory=list, description="報告ドリルで要求の一致を確かめる語")
    model_reply: str | None = Field(
        default=None,
        description="この要求への模範的な返答（冷静に受け止め、契約・方針を根拠に毅然と断り、必要なら記録・引き継ぎ）。報告書の「より良い言い方」に使う",
    )
    kind: Literal["contact", "promise", "apology", "meeting"] | None = Field(
        default=None,
        description="応じた時に受講者が渡すもの（連絡先・約束・謝罪・面会）。省略時はルーブリックの語彙から推定",
    )


class StageLines(Strict):
    """Lines the scripted voice speaks at this stage, by the trainee's last reaction."""

    conceded: Lines
    held_firm: Lines
    hostile: Lines
    escalated: Lines
    neutral: Lines


class TacticStage(Strict):
    name: NonEmpty = Field(description="段階の名前")
    behaviour: NonEmpty = Field(description="この段階で相手がすること")
    lines: StageLines
    answers: dict[str, Annotated[list[LineItem], Field(min_length=1)]] = Field(
        default_factory=dict,
        description="受講者の動き（質問・契約の根拠・記録・時間制限・エスカレーション・謝罪…）に答える台詞",
    )

    @field_validator("answers")
    @classmethod
    def _known_moves(cls, v: dict[str, list[Line]]) -> dict[str, list[Line]]:
        unknown = sorted(set(v) - set(ANSWER_MOVES))
        if unknown:
            raise ValueError(f"answers の種類 {unknown} は {list(ANSWER_MOVES)} のいずれかにしてください")
        return v  # the required ones are checked with the file (library.check_lines)


class Triggers(Strict):
    inflame: Annotated[list[NonEmpty], Field(min_length=1)]
    calm: Annotated[list[NonEmpty], Field(min_length=1)]


Closing = Annotated[list[LineItem], Field(min_length=2)]


class ClosingLines(Strict):
    resolved: Closing
    escalated: Closing
    ended_by_trainee: Closing
    safe_exit: Closing
    client_left: Closing
    max_turns: Closing


class Persona(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$", description="英小文字・数字・_")]
    version: Annotated[int, Field(ge=1)] = 1
    title: NonEmpty = Field(description="一覧に出す題名")
    scenario: ScenarioId
    difficulty: Difficulty
    channel: Channel
    client: Client
    trainee_role: NonEmpty = Field(description="受講者が演じる立場")
    setting: NonEmpty = Field(description="場面（場所・時刻・経緯）")
    manual_passage: ManualPassage
    background: NonEmpty
    demands: Annotated[list[Demand], Field(min_length=1)]
    physical_risk: bool = Field(
        default=False, description="暴力・身体的接触の恐れがあり、退席が正当な終わり方になる"
    )
    minutes_per_turn: Annotated[float, Field(ge=0, le=30)] = Field(
        default=0, description="電話の場面で1ターンに経過する模擬時間（分）"
    )
    tactic_ladder: Annotated[list[TacticStage], Field(min_length=4, max_length=5)]
    triggers: Triggers
    opening_lines: Annotated[list[NonEmpty], Field(min_length=2)]
    closing_lines: ClosingLines
    superior_instruction: str | None = Field(
        default=None,
        description="引き継いで終わった後に上長が受講者に出す指示（報告ドリルで書く内容）。省略時は標準の指示",
    )

    @property
    def difficulty_label(self) -> str:
        return DIFFICULTY_LABELS[self.difficulty]

    @property
    def short_title(self) -> str:
        """The title without the channel it ends with (shown beside the channel anyway)."""
        suffix = f"（{self.channel}）"
        return self.title.removesuffix(suffix) if self.title != suffix else self.title

    @field_validator("setting", "background")
    @classmethod
    def _join_folded_lines(cls, v: str) -> str:
        # YAML's folded scalars join lines with a space, which Japanese text does not have
        return re.sub(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])", "", v).strip()

    @property
    def scenario_label(self) -> str:
        return SCENARIO_LABELS[self.scenario]

    @model_validator(mode="after")
    def _unique_demands(self) -> Persona:
        ids = [d.id for d in self.demands]
        if len(ids) != len(set(ids)):
            raise ValueError("demands の id が重複しています / duplicate demand ids")
        return self


# --------------------------------------------------------------------------- rubric


class Descriptors(Strict):
    """What each score on the 0-3 scale means for this criterion."""

    s0: NonEmpty = Field(alias="0")
    s1: NonEmpty = Field(alias="1")
    s2: NonEmpty = Field(alias="2")
    s3: NonEmpty = Field(alias="3")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def for_score(self, score: int) -> str:
        return [self.s0, self.s1, self.s2, self.s3][score]


class Feedback(Strict):
    praise: Annotated[list[NonEmpty], Field(min_length=1)] = Field(description="できた時の講評")
    improve: Annotated[list[NonEmpty], Field(min_length=1)] = Field(description="不足時の助言")
    model_phrasings: Annotated[list[NonEmpty], Field(min_length=2)] = Field(
        description="模範的な言い回し（自作、マニュアルに根拠）"
    )
    scenario_phrasings: dict[ScenarioId, list[NonEmpty]] = Field(
        default_factory=dict,
        description="場面ごとの模範的な言い回し（報告書の「より良い言い方」で優先）",
    )


# The signal groups each criterion's scorer reads (simulator/scoring/rules.py). A group the
# code does not read would be ignored silently, and a misspelt one would silently drop its
# patterns and change scores: both fail validation, naming the file and the field.
SIGNAL_GROUPS: dict[CriterionId, frozenset[str]] = {
    CriterionId.calm: frozenset({"hostile_strong", "hostile_weak", "panic", "acknowledge_object",
                                 "acknowledge_phrase", "apology", "cushion", "calm_request"}),
    CriterionId.firm: frozenset({"refusal", "boundary", "leave", "concession_strong", "hold", "compliance_opener",
                                 "concession_literal", "compliance_question", "laughter"}),
    CriterionId.contract: frozenset({"grounds", "scope_verbs_context"}),
    CriterionId.record: frozenset({"record", "writing", "not_record"}),
    CriterionId.escalation: frozenset({"handover_party", "handover_verb", "legal", "time_limit"}),
}  # fmt: skip
DEMAND_TYPES = (
    "free",
    "discount",
    "deadline",
    "stay",
    "contact",
    "visit",
    "work",
    "private",
    "refund",
    "obey",
)
LEXICON_GROUPS: frozenset[str] = frozenset(
    {"accept_verbs", "accept_core_verbs", "stop_verbs", "non_refusal_verbs", "non_refusal_nouns", "ack_verbs",
     "procedural_verbs", "deferral", "physical_risk", "overtime"}
    | {f"demand_{t}" for t in DEMAND_TYPES}
    | {f"accept_{t}" for t in DEMAND_TYPES}
)  # fmt: skip


class SignalPattern(Strict):
    """One signal written out: an id that evidence carries, and examples the tests run."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")] = Field(description="パターン ID（根拠に記録）")
    re: NonEmpty = Field(description="正規表現（NFKC 正規化後の返答に照合）")
    negatable: bool = Field(default=True, description="直後の否定で打ち消されるか（「記録しません」）")
    match: list[NonEmpty] = Field(default_factory=list, description="一致すべき例（テストで確認）")
    no_match: list[NonEmpty] = Field(default_factory=list, description="一致してはいけない例")


Signal = NonEmpty | SignalPattern


class Criterion(Strict):
    id: CriterionId
    label: NonEmpty
    description: NonEmpty
    aggregate: Literal["every_turn", "once"] = Field(
        description="セッションでの集計: every_turn 毎回守る（平均）/ once 一度できればよい（最高値）"
    )
    can_violate: bool = Field(description="違反（スコア0・ラベル-1）があり得るか")
    applies: Literal["always", "when_pressed"] = Field(
        default="always",
        description=(
            "どのターンを数えるか: always 毎ターン / when_pressed 相手が要求を迫った返答だけ"
            "「見られない」を数える（迫られていない返答の「見られない」は対象外。示した・違反した返答は数える）"
        ),
    )
    manual_quotes: Annotated[list[NonEmpty], Field(min_length=1)]
    descriptors: Descriptors
    signals: dict[str, list[Signal]] = Field(
        default_factory=dict,
        description="判定に使う語彙（グループ名 → 正規表現、または id・例つきのパターン）。グループ名は基準ごとに決まっている",
    )
    judge_guidance: list[NonEmpty] = Field(
        default_factory=list, description="LLM 判定器に示す水準ごとの読み方（prompts/judge.j2）"
    )
    feedback: Feedback

    @field_validator("signals")
    @classmethod
    def _known_groups(cls, v: dict[str, list[Signal]], info: ValidationInfo) -> dict[str, list[Signal]]:
        cid = info.data.get("id")
        if cid is None:
            return v
        unknown = sorted(set(v) - SIGNAL_GROUPS[cid])
        if unknown:
            raise ValueError(
                f"{cid.value} の signals に未知のグループ {unknown} があります（使えるもの: "
                f"{sorted(SIGNAL_GROUPS[cid])}）/ unknown signal group for {cid.value}"
            )
        return v


class ScenarioCheck(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    label: NonEmpty
    scenarios: Annotated[list[ScenarioId], Field(min_length=1)]
    criterion: CriterionId = Field(description="この確認が加点する基準")
    manual_quote: NonEmpty
    description: NonEmpty
    signals: Annotated[list[NonEmpty], Field(min_length=1)]
    trigger: str = Field(description="確認が必要になる相手の発言を表す lexicon のグループ名")
    time_limit_minutes: float | None = None

    @field_validator("trigger")
    @classmethod
    def _known_trigger(cls, v: str) -> str:
        if v not in LEXICON_GROUPS:
            raise ValueError(f"trigger「{v}」は lexicon のグループではありません / unknown lexicon group")
        return v


class Rubric(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    version: Annotated[int, Field(ge=1)]
    title: NonEmpty
    manual: NonEmpty = Field(description="根拠となるマニュアルのファイル名")
    criteria: Annotated[list[Criterion], Field(min_length=5, max_length=5)]
    weights: dict[ScenarioId, dict[CriterionId, Annotated[float, Field(ge=0)]]]
    scenario_checks: list[ScenarioCheck] = Field(default_factory=list)
    lexicon: dict[str, list[NonEmpty]] = Field(
        default_factory=dict, description="判定器が共有する語彙（否定・譲歩・敵意など）"
    )
    borderline: list[NonEmpty] = Field(
        default_factory=list, description="LABELING.md で決めた境界例（LLM 判定器に示す）"
    )

    @field_validator("lexicon")
    @classmethod
    def _known_lexicon(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(v) - LEXICON_GROUPS)
        if unknown:
            raise ValueError(f"lexicon に未知のグループ {unknown} があります / unknown lexicon group")
        return v

    @field_validator("criteria")
    @classmethod
    def _all_criteria(cls, v: list[Criterion]) -> list[Criterion]:
        ids = [c.id for c in v]
        if sorted(ids) != sorted(CRITERIA):
            raise ValueError("criteria には5基準を1つずつ定義してください / need each criterion once")
        return v

    @field_validator("weights")
    @classmethod
    def _all_weights(
        cls, v: dict[ScenarioId, dict[CriterionId, float]]
    ) -> dict[ScenarioId, dict[CriterionId, float]]:
        missing = [s.value for s in ScenarioId if s not in v]
        if missing:
            raise ValueError(f"weights にシナリオがありません / missing scenarios: {missing}")
        for s, w in v.items():
            lack = [c.value for c in CRITERIA if c not in w]
            if lack:
                raise ValueError(f"weights.{s.value} に基準がありません / missing criteria: {lack}")
        return v

    def criterion(self, cid: CriterionId | str) -> Criterion:
        for c in self.criteria:
            if c.id == cid:
                return c
        raise KeyError(cid)

    def checks_for(self, scenario: ScenarioId) -> list[ScenarioCheck]:
        return [c for c in self.scenario_checks if scenario in c.scenarios]

    def time_limit_minutes(self, scenario: ScenarioId) -> float | None:
        """The time limit a scenario check of this rubric sets (the manual's 20-minute phone rule)."""
        for c in self.checks_for(scenario):
            if c.time_limit_minutes is not None:
                return c.time_limit_minutes
        return None


# --------------------------------------------------------------------------- assessment


class Evidence(Strict):
    text: str = Field(description="返答から引用した部分")
    start: int = Field(ge=0, description="返答内の開始位置（文字）")
    end: int = Field(ge=0)
    signal: str = Field(default="", description="何の手がかりか")
    pattern: str = Field(default="", description="一致したルーブリックのパターン ID（criterion.group#n）")


class CriterionScore(Strict):
    criterion: CriterionId
    reason: str = Field(description="採点理由（スコアより先に述べる）")
    score: Annotated[int, Field(ge=0, le=3)] | None = Field(
        description="0 違反, 1 見られない, 2 一部, 3 明確; 判定できない時は null"
    )
    evidence: list[Evidence] = Field(default_factory=list)
    manual_ref: str = Field(default="", description="根拠となるマニュアルの一文")
    source: Literal["rules", "model", "llm"] = Field(
        default="rules", description="スコアを決めたもの（ルール / 学習モデル / LLM）"
    )
    confidence: float | None = Field(default=None, ge=0, le=1, description="学習モデルの確信度（0-1）")

    @property
    def scored(self) -> bool:
        return self.score is not None

    @property
    def label_value(self) -> int | None:
        """The LABELING.md value: 0 -> -1, 1 -> 0, 2/3 -> 1."""
        if self.score is None:
            return None
        return {0: -1, 1: 0, 2: 1, 3: 1}[self.score]


class CheckResult(Strict):
    id: str
    label: str
    passed: bool | None
    reason: str
    evidence: str = Field(default="", description="確認できた返答の語句")


class Assessment(Strict):
    judge: str = Field(description="判定器の ID: rules@<hash>, hybrid@<hash>, llm:<model>")
    rubric_id: str
    rubric_version: int
    scenario: ScenarioId
    scores: dict[CriterionId, CriterionScore]
    checks: list[CheckResult] = Field(default_factory=list)
    concession: bool = Field(default=False, description="不当な要求に譲歩した")
    pressed: bool | None = Field(
        default=None,
        description="答えた相手の台詞（とその前の台詞）が要求を迫っていた。None は判定器が読んでいない",
    )
    hostile: bool = Field(default=False, description="感情的・攻撃的な返し")
    notes: list[str] = Field(default_factory=list, description="採点上の注記（フォールバック等）")
    words_without_act: list[str] = Field(
        default_factory=list,
        description="語はあったが行為として読まなかった基準（羅列・否定・不要・呼びかけ・譲歩のための言及）",
    )
    acts: list[str] = Field(
        default_factory=list,
        description="対話上の行為（asked, apology, refused, retracted, deferred, laughed, gave:<種類>, announced:<種類>, "
        "cited:contract, offered:estimate）。相手役の応答に使う",
    )

    def score(self, cid: CriterionId | str) -> int | None:
        cs = self.scores.get(CriterionId(cid))
        return None if cs is None else cs.score

    def score_map(self) -> dict[str, int | None]:
        return {c.value: self.score(c) for c in CRITERIA}


# --------------------------------------------------------------------------- session


class ContextLine(Strict):
    role: Literal["client", "trainee"]
    text: str


class DemandStatus(Strict):
    """Where one of the persona's demands stands."""

    id: str
    status: Literal["made", "refused", "conceded", "deferred"] = "made"
    made_turn: int = Field(default=0, ge=0, description="要求を出したターン（0 は冒頭）")
    turn: int = Field(default=0, ge=0, description="今の状態になったターン")


class Event(Strict):
    """Something the trainee did that the client remembers: gave, asked or announced."""

    kind: str = Field(
        description="gave: contact/promise/apology/meeting; asked: demand; announced: recording…"
    )
    turn: int = Field(ge=1)
    demand: str | None = Field(default=None, description="関わる要求の ID")
    text: str = Field(default="", description="受講者の言葉（根拠の引用）")


class DirectorState(Strict):
    pressure: Annotated[int, Field(ge=0, le=4)] = 1
    stage: Annotated[int, Field(ge=0)] = 0
    turn: Annotated[int, Field(ge=0)] = 0
    demands_made: list[str] = Field(default_factory=list)
    demands_granted: list[str] = Field(default_factory=list)
    firm_streak: int = 0
    elapsed_minutes: float = 0.0
    reaction: Reaction | None = None
    outcome: Outcome = Outcome.in_progress
    ending_reason: str = ""
    # the dialogue so far (stored with every turn: a resumed or retried session has it)
    demands: list[DemandStatus] = Field(default_factory=list, description="要求ごとの状態")
    gave: list[Event] = Field(default_factory=list, description="受講者が渡したもの")
    asked: list[Event] = Field(default_factory=list, description="受講者の質問")
    announced: list[Event] = Field(default_factory=list, description="受講者が告げたこと")
    facts: list[str] = Field(default_factory=list, description="相手の台詞が立てた事実（sets）")
    move: str | None = Field(default=None, description="相手がこのターンに答える受講者の動き")
    elements: list[str] = Field(default_factory=list, description="毅然とした対応が続く間に使われた要素")
    laughed_turns: list[int] = Field(default_factory=list)
    hostile_turns: list[int] = Field(default_factory=list)
    little_turns: list[int] = Field(
        default_factory=list, description="ほとんど何も言わなかったターン（「……」「はい」）"
    )
    refused_turns: list[int] = Field(default_factory=list)

    def demand(self, demand_id: str) -> DemandStatus | None:
        return next((d for d in self.demands if d.id == demand_id), None)


class Turn(Strict):
    index: Annotated[int, Field(ge=1)]
    client_before: str = Field(description="受講者が答えた相手の発言")
    trainee: str
    assessments: list[Assessment] = Field(default_factory=list)
    state: DirectorState
    client_after: str | None = Field(default=None, description="相手の次の発言（終了時は null）")
    closing: str | None = Field(default=None, description="場面が終わった時の相手の最後の一言")
    voice: str = "scripted"
    notices: list[str] = Field(default_factory=list, description="フォールバック等の通知")
    review_flag: bool = Field(default=False, description="判定器の不一致で研修担当の確認が必要")
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def assessment(self) -> Assessment | None:
        """The assessment that counts: the first recorded (rules unless only llm ran)."""
        return self.assessments[0] if self.assessments else None


class Session(Strict):
    id: str
    user_id: str = Field(default="local", description="受講者のユーザーID")
    persona_id: str
    persona_version: int
    rubric_id: str
    rubric_version: int
    scenario: ScenarioId
    seed: int = 0
    voice: str = "scripted"
    judge: str = "rules"
    opening: str
    turns: list[Turn] = Field(default_factory=list)
    state: DirectorState = Field(default_factory=DirectorState)
    parent_id: str | None = Field(default=None, description="やり直し元のセッション")
    branch_turn: int | None = Field(default=None, description="やり直しを始めたターン")
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    ended_at: datetime | None = None

    @property
    def outcome(self) -> Outcome:
        return self.state.outcome

    @property
    def last_client_line(self) -> str:
        if self.turns and self.turns[-1].client_after:
            return self.turns[-1].client_after
        return self.opening

    def context(self) -> list[ContextLine]:
        """The transcript so far, oldest first, ending with the line being answered."""
        out = [ContextLine(role="client", text=self.opening)]
        for t in self.turns:
            out.append(ContextLine(role="trainee", text=t.trainee))
            if t.client_after:
                out.append(ContextLine(role="client", text=t.client_after))
        return out
