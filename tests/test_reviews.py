"""Trainers' overrides: kept beside the machine score, shown as reviewed, exported as labelled
replies for the judge's corpus, measured by ``eval --overrides`` (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.app.permissions import AccessDenied
from simulator.app.services import ReviewInputError, Services
from simulator.engine import Engine
from simulator.library import load_personas
from simulator.store import Store

PERSONA = next(p for p in sorted(load_personas()) if p.startswith("out_of_contract_demand_standard"))
CONCEDE = "承知しました。今回に限り無償で対応いたします。"


# ``svc`` (the application layer on SQLite, then PostgreSQL) comes from tests/conftest.py


def _played(svc: Services) -> tuple[object, object, str]:
    trainee = svc.store.add_user("trainee", "password-t1", display_name="佐藤 花子", department="営業部")
    trainer = svc.store.add_user("trainer", "password-r1", role="trainer", display_name="田中 研修")
    s = svc.start(trainee, PERSONA, seed=1)
    svc.reply(trainee, s.id, CONCEDE)
    svc.reply(trainee, s.id, "お話は伺います。ただ、契約の範囲外のためお受けできません。")
    svc.end(trainee, s.id)
    return trainee, trainer, s.id


def test_an_override_is_kept_beside_the_machine_score_and_shown_as_reviewed(svc: Services) -> None:
    trainee, trainer, sid = _played(svc)
    machine = svc.store.session_score(sid)
    assert machine is not None
    before = svc.report(trainee, sid)
    assert before.turns[0].criteria["firm"].score == 0 and not before.reviewed
    reviewed = svc.override_score(
        trainer, sid, 1, "firm", 2, "「今回に限り」は社内規定の例外手続きで、譲歩ではない"
    )
    assert reviewed is not None and reviewed.overall != machine["overall"]
    assert svc.store.session_score(sid) == machine, "the machine's score is never replaced"
    rep = svc.report(trainee, sid)
    firm = rep.turns[0].criteria["firm"]
    assert rep.reviewed and firm.score == 2 and firm.machine_score == 0 and firm.reviewed_by == "田中 研修"
    assert rep.overall == reviewed.overall and rep.machine_overall == machine["overall"]
    assert "社内規定の例外手続き" in firm.reason
    from simulator.report_render import render_markdown

    md = render_markdown(rep)
    assert "研修担当の確認済み" in md and "機械の採点 0" in md
    # the history and its trend show the reviewed figures
    row = next(r for r in svc.history(trainee) if r["id"] == sid)
    assert row["reviewed_overall"] == reviewed.overall and row["overall"] == machine["overall"]
    rows = {r["criterion"]: r for r in svc.own_criterion_rows(trainee) if r["session_id"] == sid}
    assert rows["firm"]["reviewed"] and rows["firm"]["mean"] == rep.criteria["firm"].mean


def test_overrides_are_refused_with_a_reason_and_only_for_trainers(svc: Services) -> None:
    trainee, trainer, sid = _played(svc)
    hr = svc.store.add_user("hr", "password-h1", role="hr")
    with pytest.raises(ReviewInputError, match="理由"):
        svc.override_score(trainer, sid, 1, "firm", 2, "  ")
    with pytest.raises(ReviewInputError, match="1〜3"):
        svc.override_score(trainer, sid, 1, "contract", 0, "違反はない基準")
    with pytest.raises(ReviewInputError, match="ターン9"):
        svc.override_score(trainer, sid, 9, "firm", 2, "理由")
    for u in (trainee, hr):
        with pytest.raises(AccessDenied):
            svc.override_score(u, sid, 1, "firm", 2, "理由")
    assert svc.store.overrides(sid) == []


def test_overrides_export_as_labelled_replies(svc: Services) -> None:
    trainee, trainer, sid = _played(svc)
    svc.override_score(trainer, sid, 1, "firm", 1, "断ってはいないが、応じてもいない")
    svc.override_score(trainer, sid, 1, "firm", 2, "読み直すと規定どおりの例外対応")  # the latest counts
    [rec] = svc.export_overrides(trainer)
    session = svc.load(trainee, sid)
    assert rec["reply"] == CONCEDE and rec["scenario"] == session.scenario.value
    assert rec["labels"]["firm"] == 1 and rec["reviewed"] == ["firm"]
    assert set(rec["labels"]) == {"calm", "firm", "contract", "record", "escalation"}
    assert rec["context"][-1] == {"role": "client", "text": session.turns[0].client_before}
    assert "規定どおりの例外対応" in rec["note"]
    with pytest.raises(AccessDenied):
        svc.export_overrides(trainee)
    actions = [e["action"] for e in svc.store.audit_entries(action="score_override")]
    assert len(actions) == 2


def test_the_command_line_exports_trains_on_and_measures_the_overrides(
    tmp_path: Path, rules_engine: Engine
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KASUHARA_")}
    env["KASUHARA_DATA_DIR"] = str(tmp_path)
    svc = Services(Store(f"sqlite:///{tmp_path / 'kasuhara.sqlite3'}"), rules_engine)
    _trainee, trainer, sid = _played(svc)
    svc.override_score(trainer, sid, 1, "firm", 2, "規定どおりの例外対応")
    svc.store.engine.dispose()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "simulator", *args], capture_output=True, text=True,
                              env=env, check=False)  # fmt: skip

    out = cli("judge", "export-overrides")
    assert out.returncode == 0
    [rec] = [json.loads(x) for x in out.stdout.splitlines()]
    assert rec["reviewed"] == ["firm"] and rec["labels"]["firm"] == 1
    measured = cli("eval", "--overrides", "--judge", "rules", "--json")
    assert measured.returncode == 0, measured.stderr
    m = json.loads(measured.stdout)["rules"]
    assert m["criteria"]["firm"]["n"] == 1 and set(m["criteria"]) == {"firm"}
    assert m["false_concession_rate"] == 1.0, "the rules called the reviewed non-concession a concession"

    from simulator.cli.judge import OVERRIDES_BATCH, _corpus_with_overrides
    from simulator.scoring.learned import load_corpus
    from simulator.scoring.train import CORPUS_DIR, unseen_by_rules

    os.environ["KASUHARA_DATA_DIR"] = str(tmp_path)
    try:
        (tmp_path / "corpus").mkdir()
        corpus, n = _corpus_with_overrides(CORPUS_DIR, tmp_path / "corpus")
    finally:
        del os.environ["KASUHARA_DATA_DIR"]
    assert n == 1 and OVERRIDES_BATCH in unseen_by_rules(corpus)
    recs = load_corpus(corpus)
    assert len(recs) == len(load_corpus(CORPUS_DIR)) + 1
    assert [r["reply"] for r in recs if r["_file"] == OVERRIDES_BATCH] == [CONCEDE]
