"""Demo data: ``python -m simulator demo-data --trainees N --sessions M [--seed S]``.

Creates trainee accounts ``demo_trainee_01`` ... (departments 営業部・開発部・サポート部 in
turn) and, for each, M practice sessions over varied personas, played through the real
engine (scripted voice, the default hybrid judge) with replies of varied quality written for this module.
Every turn is stored as it would be by the app, the overall percent is saved, and about
half the finished sessions get a filed 報告 drill. Trainees improve over their sessions,
so the HR history shows progress. The same seed gives the same sessions.

Also created when missing: the administrator (its one-time password is printed, as on the
app's first start) and ``demo_trainer`` / ``demo_hr`` for the staff views.
All demo accounts use the password :data:`DEMO_PASSWORD`; change it outside a demo.

Accounts that already exist are left alone (their sessions are not added twice).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from simulator.drill import check_drill
from simulator.models import Outcome, Persona, ScenarioId, Session
from simulator.scoring.session import score_session
from simulator.store import Store, User

DEMO_PASSWORD = "kasuhara-demo"
DEPARTMENTS = ("営業部", "開発部", "サポート部")
STAFF = (("demo_trainer", "trainer", "人事部", "研修 担当"), ("demo_hr", "hr", "人事部", "人事 総務"))

# Fictional names for the demo trainees (family, given).
FAMILY = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田")
GIVEN = ("美咲", "大輔", "陽菜", "健太", "結衣", "翔太", "彩", "拓也", "由美", "直樹", "真由", "誠")
BOSSES = ("木村課長", "林部長", "清水課長", "森マネージャー")

_JST = timezone(timedelta(hours=9), "JST")

# --------------------------------------------------------------------------- phrase banks
# Written for this module. Each quality reads differently to the judge: exemplary
# replies acknowledge, decline on the contract or policy, record and hand on; partial ones
# do part of that; conceding ones give in; hostile ones hit back; passive ones do nothing.

EXEMPLARY_HOLD: dict[ScenarioId | None, list[str]] = {
    None: [
        "お話は伺います。ただ、そのご要望は契約の範囲外ですので、会社の方針としてお受けできません。",
        "ご不満の点は承知しました。しかし、契約書に定めた内容を超える対応は、当社の方針としてお引き受けできません。",
        "ご事情はよくわかりました。そのうえで、合意した契約の条件を変えることはできかねますので、お断りいたします。",
    ],
    ScenarioId.verbal_abuse: [
        "お話は伺いますので、大きなお声はお控えください。契約に基づいて、できることを順にご説明します。",
        "ご不満はしっかり受け止めます。ただ、そのような言い方はおやめください。契約外のご要望にはお応えできません。",
    ],
    ScenarioId.sexual_harassment: [
        "そのようなご発言は業務と関係ありませんので、おやめください。",
        "不快です。そのようなお誘いにはお応えできません。お打合せの内容に戻らせてください。",
    ],
    ScenarioId.prolonged_detention: [
        "お話は承りました。ただ、本日の打合せは予定の時刻までとお約束しております。契約外の作業もお受けできません。",
        "ご要望は理解しました。しかし、契約にない作業は会社の方針としてお引き受けできません。",
    ],
    ScenarioId.phone_harassment: [
        "ご不満の点は承知しました。ただ、契約外のご要望は会社の方針としてお受けできません。",
        "お話は伺っております。恐れ入りますが、大きなお声はお控えください。ご要望には契約上お応えできません。",
    ],
    ScenarioId.sns_defamation: [
        "ご指摘は承りました。ただ、事実と異なる内容の投稿はおやめください。ご要望には会社の方針として応じられません。",
        "ご不満は受け止めます。しかし、契約に基づかないご要求にはお応えできません。",
    ],
}

EXEMPLARY_RECORD = [
    "ご不満の点は承知しました。本日のご要望とやり取りは記録に残し、内容はメールでお送りします。契約外の対応はお受けできません。",
    "お話は伺っております。念のため、本日の内容は議事録に残させていただきます。正式なご要望は書面でいただけますか。",
    "ご事情は承知しました。お話の内容はメモに記録しております。契約にないご要望はお受けできませんので、書面でお送りください。",
]

EXEMPLARY_CLOSE: dict[ScenarioId | None, list[str]] = {
    None: [
        "お話は伺いました。ただ、これ以上は私の一存ではお答えできませんので、上長に報告のうえ、会社として改めてご連絡いたします。",
        "ご不満は承知しております。本件は上長と相談窓口に報告し、会社間での協議に移させていただきます。",
    ],
    ScenarioId.prolonged_detention: [
        "お話は承りました。予定の時刻を過ぎましたので、本日はここで失礼いたします。続きは上長を交えて改めてご相談させてください。",
    ],
    ScenarioId.phone_harassment: [
        "ご不満の点は承知しました。業務に支障をきたしますので、これ以上の対応はできません。本件は20分の対応をもって終了とさせていただきます。",
        "お話は伺いました。本件は上長に報告し、改めて会社としてご連絡いたします。本日の通話はここで終了させていただきます。",
    ],
    ScenarioId.sexual_harassment: [
        "不快ですので、この場を離れさせていただきます。本件は会社に報告します。",
        "そのような要求には応じられません。本日はこれで失礼し、上長に報告いたします。",
    ],
    ScenarioId.sns_defamation: [
        "ご主張は伺いました。投稿の内容は記録したうえで法務部門に報告し、会社として判断いたします。ご要求にはお応えできません。",
    ],
}

PARTIAL = [
    "お話はよくわかりました。社内で確認して、後ほどご連絡します。",
    "申し訳ございませんが、そのご要望は難しいです。",
    "契約の内容については、一度ご確認いただけますでしょうか。",
    "ご不便をおかけしております。確認のうえ、改めてご連絡いたします。",
    "ご要望の件、そのままお受けするのは難しいかと思います。",
]

CONCEDING = [
    "承知しました。今回だけは特別に対応いたします。",
    "前向きに検討いたしますので、少しお時間をください。",
    "申し訳ございません、全て私どもの責任です。何とかいたします。",
    "わかりました、費用のことは社内で何とか調整します。",
]

HOSTILE = [
    "は？そんな無茶な話、通るわけないでしょう。",
    "いい加減にしてください！こちらだって暇じゃないんです。",
    "そちらこそ失礼じゃないですか。そういう言い方なら、もう結構です。",
    "何度言えばわかるんですか。無理なものは無理です！",
]

PASSIVE = [
    "はい……そうですね。",
    "えっと、少し考えさせてください。",
    "そうおっしゃられましても……。",
    "確認してみます。",
]

FAST_ABOVE = 500  # more sessions than this are copies of template sessions (simulator.demo_scale)

QUALITIES = ("exemplary", "partial", "conceding", "hostile", "passive")


def _pick(bank: dict[ScenarioId | None, list[str]], scenario: ScenarioId, rng: random.Random) -> str:
    return rng.choice(bank.get(scenario) or bank[None])


def quality_weights(skill: float) -> list[float]:
    """How likely each quality is for a trainee of this skill (0 novice .. 1 expert)."""
    s = max(0.0, min(1.0, skill))
    return [0.15 + 0.75 * s, 0.25, 0.25 * (1 - s) + 0.02, 0.15 * (1 - s) + 0.02, 0.2 * (1 - s) + 0.02]


@dataclass
class ReplyWriter:
    """Writes one trainee's replies in one session: exemplary replies move from holding
    firm to recording to handing on, as the manual's steps do."""

    scenario: ScenarioId
    skill: float
    rng: random.Random
    phase: int = 0

    def next(self) -> tuple[str, str]:
        quality = self.rng.choices(QUALITIES, weights=quality_weights(self.skill))[0]
        if quality == "exemplary":
            if self.phase == 0:
                text = _pick(EXEMPLARY_HOLD, self.scenario, self.rng)
            elif self.phase == 1:
                text = self.rng.choice(EXEMPLARY_RECORD)
            else:
                text = _pick(EXEMPLARY_CLOSE, self.scenario, self.rng)
            self.phase += 1
            return quality, text
        bank = {"partial": PARTIAL, "conceding": CONCEDING, "hostile": HOSTILE, "passive": PASSIVE}[quality]
        return quality, self.rng.choice(bank)


# --------------------------------------------------------------------------- the drill


_RESULT_TEXT = {
    Outcome.escalated: "契約外の要求はお断りし、上長に報告のうえ会社として対応すると伝えて引き継いだ。",
    Outcome.resolved: "契約に基づいてお断りを続けたところ、先方が要求を取り下げ、その場は収まった。",
    Outcome.ended_by_trainee: "方針に基づき、予定の時刻で対応を終了した。",
    Outcome.safe_exit: "不快な言動が続いたため退席し、その場を離れて安全を確保した。",
    Outcome.client_left: "やり取りが平行線のまま、先方が一方的に立ち去った（電話を切った）。",
    Outcome.max_turns: "結論が出ず、未解決のまま継続となった。",
    Outcome.in_progress: "未解決で、対応を継続中。",
    Outcome.stopped: "練習を途中で終了した（未解決）。",
}

_WHERE = {
    "電話": "電話（サポートセンター）",
    "オンライン会議": "オンライン会議",
    "メール・SNS": "メールおよびSNSのDM",
}


def demo_drill_fields(
    session: Session, persona: Persona, user: User, rng: random.Random, careful: bool
) -> dict[str, str]:
    """A report as a trainee might file it: complete and honest when ``careful``, with the
    usual slips (a blank instruction, no admission of a concession, a vague requester)
    otherwise."""
    when = session.created_at.astimezone(_JST)
    where = _WHERE.get(persona.channel, "先方の会議室（対面）")
    made = [d for d in persona.demands if d.id in session.state.demands_made] or persona.demands[:1]
    c = persona.client
    result = _RESULT_TEXT[session.outcome]
    if session.state.demands_granted and careful:
        result += "途中で一度、要求に応じる返事をしてしまった。"
    escalated = session.outcome is Outcome.escalated
    if escalated:
        instruction = (
            f"{rng.choice(BOSSES)}から、以後の窓口は上長が引き継ぎ、先方には書面で回答するよう指示を受けた。"
        )
    elif careful and rng.random() < 0.6:
        instruction = f"{rng.choice(BOSSES)}に報告し、契約外の要求には応じず、次回の打合せには上長が同席するとの指示を受けた。"
    else:
        instruction = "指示なし（未報告）"
    fields = {
        "when_where": f"{when.month}月{when.day}日 {when.hour}時頃、{where}",
        "requester": f"{c.company} {c.role} {c.name}様",
        "employee": user.display_name,
        "manager_instruction": instruction,
        "demand": f"{made[0].text.rstrip('。')}（との要求）",
        "result": result,
        "other": "やり取りはメモに記録済み。" if rng.random() < 0.5 else "",
    }
    if not careful:
        slip = rng.choice(("instruction", "requester", "result", "when"))
        if slip == "instruction":
            fields["manager_instruction"] = ""
        elif slip == "requester":
            fields["requester"] = "取引先の方"
        elif slip == "result":
            fields["result"] = "対応した。"
        else:
            fields["when_where"] = f"{when.month}月{when.day}日"
    return fields


# --------------------------------------------------------------------------- runner


def _session_id(seed: int, username: str, n: int, kind: str = "demo") -> str:
    return hashlib.sha256(f"{kind}|{seed}|{username}|{n}".encode()).hexdigest()[:32]


def maybe_file_drill(
    engine: Any,
    store: Store,
    session: Session,
    persona: Persona,
    user: User,
    rng: random.Random,
    skill: float,
) -> bool:
    """About half the ended sessions get a filed 報告 drill, more careful the more skilled the
    trainee; the drill counts in the stored grade, as in the app. True when one was filed."""
    if session.outcome is Outcome.in_progress or rng.random() >= 0.5:
        return False
    careful = rng.random() < 0.3 + 0.6 * min(1.0, skill)
    fields = demo_drill_fields(session, persona, user, rng, careful)
    result = check_drill(fields, session, persona, user.display_name)
    store.save_incident_report(
        session.id, user, fields, [it.model_dump(mode="json") for it in result.items], result.score
    )
    store.update_session(session, user, score=score_session(session, engine.rubric, result.score))
    return True


def _ensure_staff(store: Store) -> list[str]:
    made = []
    for username, role, dept, name in STAFF:
        if store.find_user(username) is None:
            store.add_user(username, DEMO_PASSWORD, role=role, department=dept, display_name=name)
            made.append(username)
    return made


def run_session(
    engine: Any,
    store: Store,
    user: User,
    persona: Persona,
    *,
    skill: float,
    rng: random.Random,
    session_id: str,
    started: datetime,
) -> Session:
    """One practice session through the real engine, stored turn by turn, with its score."""
    session = engine.start(persona, seed=rng.randrange(1_000_000), user_id=user.id, session_id=session_id)
    session.created_at = started
    store.create_session(session, user, difficulty=persona.difficulty.value)
    writer = ReplyWriter(persona.scenario, skill, rng)
    # A few trainees stop early, as people do.
    stop_after = rng.randint(3, 6) if rng.random() < 0.1 else None
    clock = started
    while session.outcome is Outcome.in_progress:
        if stop_after is not None and len(session.turns) >= stop_after:
            engine.end(session)
            break
        _quality, reply = writer.next()
        turn = engine.take_turn(session, reply, persona)
        clock += timedelta(seconds=rng.randint(25, 90))
        turn.created_at = clock
        store.record_turn(session, user, turn)
    session.ended_at = clock
    score = score_session(session, engine.rubric)
    store.update_session(session, user, score=score)
    return session


def run_demo_data(args: argparse.Namespace) -> int:
    from simulator.accounts import ensure_admin, first_start_message
    from simulator.engine import Engine
    from simulator.library import personas

    trainees = int(args.trainees)
    per = int(args.sessions)
    seed = int(getattr(args, "seed", 0) or 0)
    if trainees < 0 or per < 0:
        print("--trainees と --sessions は0以上にしてください / must be >= 0")
        return 2
    from simulator.demo_scale import department_names, fill

    try:
        depts = department_names(int(getattr(args, "departments", 3) or 3))
    except ValueError as e:
        print(e)
        return 2
    days = getattr(args, "days", None)
    t0 = time.perf_counter()
    store = Store()
    admin_password = ensure_admin(store)
    staff = _ensure_staff(store)
    catalogue = [personas()[k] for k in sorted(personas())]
    if getattr(args, "fast", False) or trainees * per > FAST_ABOVE:
        done = fill(store, catalogue, trainees=trainees, sessions=per, departments=len(depts),
                    days=int(days or 365), seed=seed)  # fmt: skip
        if admin_password:
            print(first_start_message(admin_password))
        print(f"受講者 / trainees: {done['trainees']} 人作成（{len(depts)} 部署）"
              + (f"（既存のためスキップ: {done['skipped']} 人）" if done["skipped"] else ""))  # fmt: skip
        if staff:
            print(f"スタッフ / staff: {', '.join(staff)}")
        print(f"セッション / sessions: {done['sessions']}  ターン / turns: {done['turns']}  報告ドリル / drills: "
              f"{done['drills']}（{done['templates']} 件の雛形セッションの複製 / copies of {done['templates']} "
              f"template sessions, {done['template_seconds']:.1f} s）")  # fmt: skip
        print(f"期間 / dates: {done['since']} から / from, {int(days or 365)} 日間 / days")
        print(f"所要時間 / seconds: {time.perf_counter() - t0:.1f}")
        print(f"デモ用パスワード / demo password: {DEMO_PASSWORD}")
        return 0
    engine = Engine(voice="scripted")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    created: list[str] = []
    skipped: list[str] = []
    n_sessions = n_turns = n_drills = 0
    try:
        for i in range(1, trainees + 1):
            username = f"demo_trainee_{i:02d}"
            # Each trainee gets their own generator, so adding trainees does not change
            # the sessions of the first ones.
            trng = random.Random(f"{seed}|{username}")
            if store.find_user(username) is not None:
                skipped.append(username)
                continue
            name = f"{FAMILY[(i - 1) % len(FAMILY)]} {GIVEN[(i * 5 + seed) % len(GIVEN)]}"
            user = store.add_user(
                username,
                DEMO_PASSWORD,
                role="trainee",
                department=depts[(i - 1) % len(depts)],
                display_name=name,
            )
            created.append(username)
            base_skill = trng.uniform(0.1, 0.6)
            order = trng.sample(catalogue, k=len(catalogue))
            for n in range(per):
                persona = order[n % len(order)]
                skill = base_skill + (0.5 * n / max(1, per - 1) if per > 1 else 0.0)
                days_ago = int(days * (per - n) / max(1, per)) if days else (per - n) * 3 + trng.randint(0, 2)
                started = (now - timedelta(days=days_ago)).replace(hour=trng.randint(0, 9))  # 9-18時 JST
                session = run_session(
                    engine,
                    store,
                    user,
                    persona,
                    skill=skill,
                    rng=trng,
                    session_id=_session_id(seed, username, n),
                    started=started,
                )
                n_sessions += 1
                n_turns += len(session.turns)
                n_drills += maybe_file_drill(engine, store, session, persona, user, trng, skill)
    finally:
        engine.close()
    seconds = time.perf_counter() - t0
    if admin_password:
        print(first_start_message(admin_password))
    print(
        f"受講者 / trainees: {len(created)} 人作成"
        + (f"（既存のためスキップ: {', '.join(skipped)}）" if skipped else "")
    )
    if staff:
        print(f"スタッフ / staff: {', '.join(staff)}")
    print(f"セッション / sessions: {n_sessions}  ターン / turns: {n_turns}  報告ドリル / drills: {n_drills}")
    print(f"所要時間 / seconds: {seconds:.1f}")
    if created or staff:
        print(f"デモ用パスワード / demo password: {DEMO_PASSWORD}")
    return 0
