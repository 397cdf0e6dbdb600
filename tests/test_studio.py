"""The persona catalogue and studio services: versions, publishing, validation, Character Card V2.

Run on SQLite and PostgreSQL; a trainer may edit personas, a trainee or HR may not.
"""

from __future__ import annotations

import json

import pytest
import yaml

from simulator.app import catalog as catalog_module
from simulator.app.cards import to_card
from simulator.app.permissions import AccessDenied
from simulator.app.services import Services
from simulator.engine import Engine
from simulator.errors import DataFileError
from simulator.library import PERSONAS_DIR
from simulator.store import Store

BASE = "out_of_contract_demand_standard_retail"
NEW_ID = "studio_made_persona"


@pytest.fixture(scope="module")
def engine() -> Engine:
    e = Engine(voice="scripted", judge="rules")
    yield e
    e.close()


@pytest.fixture()
def svc(db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setattr(catalog_module, "CACHE_SECONDS", 0.0)
    return Services(Store(db_url), engine)


def _new_persona_text(title: str = "スタジオで作った取引先（対面）") -> str:
    data = yaml.safe_load((PERSONAS_DIR / f"{BASE}.yaml").read_text(encoding="utf-8"))
    data["id"] = NEW_ID
    data["title"] = title
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_a_trainer_writes_publishes_and_revises_a_persona_that_trainees_then_play(svc: Services) -> None:
    trainer = svc.store.add_user("trainer", "password-r1", role="trainer")
    trainee = svc.store.add_user("trainee", "password-t1")
    assert svc.check_persona_text(trainer, _new_persona_text()) == []
    v1 = svc.save_persona(trainer, _new_persona_text(), note="初版")
    assert (v1.id, v1.version) == (NEW_ID, 1)
    assert NEW_ID not in svc.personas(), "not offered before it is published"
    svc.publish_persona(trainer, NEW_ID, 1)
    assert svc.personas()[NEW_ID].version == 1
    first = svc.start(trainee, NEW_ID, seed=1)
    svc.reply(trainee, first.id, "お話は伺います。")
    v2 = svc.save_persona(trainer, _new_persona_text("改訂した取引先（対面）"), note="題名を改訂")
    assert v2.version == 2 and svc.personas()[NEW_ID].version == 1, "v2 waits until published"
    svc.publish_persona(trainer, NEW_ID, 2)
    second = svc.start(trainee, NEW_ID, seed=2)
    assert (first.persona_version, second.persona_version) == (1, 2)
    # a session keeps the version it ran: its report shows v1
    assert svc.report(trainee, first.id).persona.title == "スタジオで作った取引先（対面）"
    assert svc.report(trainee, second.id).persona.title == "改訂した取引先（対面）"
    diff = svc.persona_diff(trainer, NEW_ID, 1, 2)
    assert "-title: スタジオで作った取引先（対面）" in diff and "+title: 改訂した取引先（対面）" in diff
    svc.publish_persona(trainer, NEW_ID, 2, published=False)
    assert svc.personas()[NEW_ID].version == 1, "unpublishing v2 offers v1 again"
    actions = [e["action"] for e in svc.audit_log(svc.store.add_user("hr", "password-h1", role="hr"))]
    assert actions.count("persona_saved") == 2 and "persona_unpublished" in actions


def test_a_broken_persona_names_the_field_and_stores_nothing(svc: Services) -> None:
    trainer = svc.store.add_user("trainer", "password-r1", role="trainer")
    broken = _new_persona_text().replace("difficulty: standard", "difficulty: easy")
    problems = svc.check_persona_text(trainer, broken)
    assert problems and problems[0][0] == "difficulty" and "使える値" in problems[0][1]
    with pytest.raises(DataFileError) as err:
        svc.save_persona(trainer, broken)
    assert err.value.field == "difficulty"
    assert not [r for r in svc.store.persona_versions(NEW_ID)]


def test_character_card_v2_round_trip_and_a_foreign_card(svc: Services) -> None:
    trainer = svc.store.add_user("trainer", "password-r1", role="trainer")
    card = json.loads(svc.export_persona(trainer, BASE, 1, "card"))
    assert card["spec"] == "chara_card_v2" and card["spec_version"] == "2.0"
    for key in ("name", "description", "personality", "scenario", "first_mes", "mes_example"):
        assert card["data"][key], key
    back = svc.import_persona(trainer, json.dumps(card, ensure_ascii=False), source="card.json")
    original = svc.catalog.get(BASE, 1)
    assert back.version == 2
    assert back.model_copy(update={"version": 1}) == original, "the card brings back the same persona"
    foreign = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Alice", "first_mes": "Hi"}}
    with pytest.raises(DataFileError) as err:
        svc.import_persona(trainer, json.dumps(foreign))
    assert err.value.field == "data.extensions.kasuhara"
    # YAML export is the stored text
    assert yaml.safe_load(svc.export_persona(trainer, BASE, 1))["id"] == BASE
    assert to_card(original)["data"]["extensions"]["kasuhara"]["id"] == BASE


def test_only_trainers_edit_personas(svc: Services) -> None:
    trainee = svc.store.add_user("trainee", "password-t1")
    hr = svc.store.add_user("hr", "password-h1", role="hr")
    for u in (trainee, hr):
        for call in (
            lambda u=u: svc.studio_personas(u),
            lambda u=u: svc.persona_text(u, BASE, 1),
            lambda u=u: svc.check_persona_text(u, "id: x"),
            lambda u=u: svc.save_persona(u, _new_persona_text()),
            lambda u=u: svc.publish_persona(u, BASE, 1, False),
            lambda u=u: svc.persona_diff(u, BASE, 1, 1),
            lambda u=u: svc.export_persona(u, BASE, 1),
            lambda u=u: svc.import_persona(u, _new_persona_text()),
        ):
            with pytest.raises(AccessDenied):
                call()
    assert BASE in svc.personas(), "nothing changed"


def test_every_instance_sees_the_same_catalogue(
    db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_module, "CACHE_SECONDS", 0.0)
    a = Services(Store(db_url), engine)
    b = Services(Store(db_url), engine)  # a second app instance on the same database
    trainer = a.store.add_user("trainer", "password-r1", role="trainer")
    a.save_persona(trainer, _new_persona_text())
    a.publish_persona(trainer, NEW_ID, 1)
    assert b.personas()[NEW_ID].title == "スタジオで作った取引先（対面）"
    assert len(b.store.persona_versions(BASE)) == 1, "seeding twice stores the shipped file once"


def test_personas_export_and_import_from_the_command_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("KASUHARA_")}
    env["KASUHARA_DATA_DIR"] = str(tmp_path)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "simulator", "personas", *args], capture_output=True,
                              text=True, env=env, check=False)  # fmt: skip

    card = cli("export", BASE, "--format", "card")
    assert card.returncode == 0 and json.loads(card.stdout)["spec"] == "chara_card_v2"
    (tmp_path / "card.json").write_text(card.stdout, encoding="utf-8")
    done = cli("import", str(tmp_path / "card.json"))
    assert done.returncode == 0 and f"{BASE} v2" in done.stdout
    assert yaml.safe_load(cli("export", BASE).stdout)["version"] == 2, "the latest version by default"
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        _new_persona_text().replace("difficulty: standard", "difficulty: easy"), encoding="utf-8"
    )
    bad = cli("import", str(broken))
    assert bad.returncode == 2 and "broken.yaml" in bad.stderr and "difficulty" in bad.stderr


def test_scenario_weights_are_edited_as_versions_and_new_scores_use_the_published_one(svc: Services) -> None:
    trainer = svc.store.add_user("trainer", "password-r1", role="trainer")
    trainee = svc.store.add_user("trainee", "password-t1")
    text, versions = svc.weights_text(trainer)
    assert versions == [] and "verbal_abuse" in text
    data = yaml.safe_load(text)
    persona = svc.catalog.get(BASE)
    scenario = persona.scenario.value
    data[scenario]["firm"] = 5.0  # 毅然 counts far more in this scenario
    broken = {**data, scenario: {**data[scenario], "calm": 0}}
    _w, problems = svc.check_weights(trainer, yaml.safe_dump(broken))
    assert problems == [(f"weights.{scenario}.calm", "0より大きく5以下にしてください")]
    with pytest.raises(DataFileError):
        svc.save_weights(trainer, yaml.safe_dump(broken))

    def play() -> object:
        s = svc.start(trainee, BASE, seed=1)
        svc.reply(trainee, s.id, "承知しました。今回に限り無償で対応いたします。")
        svc.end(trainee, s.id)
        return svc.report(trainee, s.id)

    before = play()
    v = svc.save_weights(trainer, yaml.safe_dump(data), note="毅然を重く")
    assert v == 1 and play().grade_breakdown == before.grade_breakdown, "saved is not yet used"  # type: ignore[attr-defined]
    svc.publish_weights(trainer, v)
    after = play()
    firm = next(r for r in after.grade_breakdown.rows if r.criterion == "firm")  # type: ignore[attr-defined]
    assert firm.weight == 5.0 and after.overall < before.overall, "the conceded 毅然 now weighs more"  # type: ignore[attr-defined]
    assert svc.store.session_score(after.session_id)["weights_version"] == 1  # type: ignore[attr-defined,index]
    assert svc.store.session_score(before.session_id)["weights_version"] == 0, "earlier scores keep theirs"  # type: ignore[attr-defined,index]
    with pytest.raises(AccessDenied):
        svc.save_weights(trainee, yaml.safe_dump(data))
