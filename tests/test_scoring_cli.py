"""``python -m simulator score``: one output line per input line, in order."""

import json

import pytest

from simulator.cli import main

REC = {"scenario": "out_of_contract_demand", "context": [{"role": "client", "text": "無料でやって"}]}


def write(tmp_path, rows):
    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return p


def test_score_writes_one_line_per_record_in_order(tmp_path):
    rows = [
        {"id": "x1", **REC, "reply": "契約外ですのでお受けできません。", "labels": {"calm": 9}},
        {"id": "x2", **REC, "reply": ""},
        {"id": "x3", **REC, "reply": "今回だけ特別に無料で対応します。"},
    ]
    out = tmp_path / "out.jsonl"
    assert main(["score", "--in", str(write(tmp_path, rows)), "--out", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == ["x1", "x2", "x3"]
    assert lines[0]["scores"]["firm"] in (2, 3)
    assert lines[1]["scores"] == dict.fromkeys(("calm", "firm", "contract", "record", "escalation"))
    assert lines[2]["scores"]["firm"] == 0
    assert lines[2]["assessment"]["concession"] is True


def test_score_to_stdout(tmp_path, capsys):
    assert (
        main(["score", "--in", str(write(tmp_path, [{"id": 1, **REC, "reply": "はい"}])), "--out", "-"]) == 0
    )
    assert json.loads(capsys.readouterr().out.splitlines()[0])["id"] == 1


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("{not json", "JSON"),
        ('{"id": 1, "scenario": "nope", "reply": "x"}', "scenario"),
        ('{"id": 1}', "reply"),
    ],
)
def test_bad_input_names_the_line(tmp_path, capsys, line, why):
    p = tmp_path / "in.jsonl"
    p.write_text(json.dumps({"id": 0, **REC, "reply": "はい"}) + "\n" + line + "\n", encoding="utf-8")
    assert main(["score", "--in", str(p), "--out", "-"]) == 2
    err = capsys.readouterr().err
    assert "2行目" in err and "line 2" in err and why in err


def test_llm_judge_falls_back_to_rules_with_a_note(tmp_path, monkeypatch):
    import simulator.scoring as scoring
    from simulator.errors import LLMUnavailable

    class Down:
        name = "llm:test"

        def assess(self, *a, **k):
            raise LLMUnavailable("connection refused")

    real = scoring.get_judge
    monkeypatch.setattr(scoring, "get_judge", lambda n: Down() if n == "llm" else real(n))
    out = tmp_path / "out.jsonl"
    p = write(tmp_path, [{"id": 1, **REC, "reply": "お受けできません。"}])
    assert main(["score", "--in", str(p), "--out", str(out), "--judge", "llm"]) == 0
    row = json.loads(out.read_text(encoding="utf-8"))
    assert row["assessment"]["judge"].startswith("hybrid@")
    assert any("LLM" in n for n in row["assessment"]["notes"])
    assert main(["score", "--in", str(p), "--out", str(out), "--judge", "both"]) == 0
    row = json.loads(out.read_text(encoding="utf-8"))
    assert len(row["assessments"]) == 2 and row["scores"]["firm"] in (2, 3)


def test_llm_judge_that_cannot_be_built_falls_back(tmp_path, monkeypatch):
    import simulator.scoring as scoring

    def broken(name):
        raise ImportError("no llm module")

    monkeypatch.setattr(scoring, "get_judge", broken)
    out = tmp_path / "out.jsonl"
    p = write(tmp_path, [{"id": 1, **REC, "reply": "お受けできません。"}])
    assert main(["score", "--in", str(p), "--out", str(out), "--judge", "llm"]) == 0
    assert "LLM" in " ".join(json.loads(out.read_text(encoding="utf-8"))["assessment"]["notes"])
