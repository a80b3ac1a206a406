"""The campaign's ledger (``bench/faults.py --ledger``/``--report``): a line per run, read back
from several files into the per-scenario table, bad lines refused with where they are, and the
runs of a parallel campaign each taken by exactly one stack. Pure file logic; no stack."""

from __future__ import annotations

import io
import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from fault_ledger import (
    NOTHING,
    UNCHECKED,
    LedgerError,
    Run,
    append,
    claims,
    of_commit,
    read,
    report,
    table,
    top_up,
    write_plan,
)

KILLED = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"


def _run(scenario: str, seed: int, passed: bool = True, tickets: int = 10, **kw: object) -> Run:
    return Run(
        scenario=scenario,
        seed=seed,
        commit="abc123",
        passed=passed,
        reason="" if passed else f"worker-1 reaching attest: not within 180 s (seed {seed})",
        tickets=tickets if passed else 0,
        paid=tickets - 1 if passed else 0,
        refunded=1 if passed else 0,
        lost=NOTHING if passed else UNCHECKED,
        seconds=30.0,
        **kw,  # type: ignore[arg-type]
    )


def test_ledger__runs_appended_over_two_invocations__table_adds_them_up(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    append(first, _run("clock-skewed-worker", 1))
    append(first, _run("worker-killed-attest-down", 1, no_shows={KILLED: 5 * 10**16}))
    append(second, _run("clock-skewed-worker", 2, tickets=4))
    append(second, _run("clock-skewed-worker", 3, passed=False))

    runs = read([first, second])
    rows = {row.scenario: row for row in table(runs)}

    assert [r.seed for r in runs] == [1, 1, 2, 3]
    assert runs[1].no_shows == {KILLED: 5 * 10**16}  # the killed worker's no-shows, kept apart
    skewed = rows["clock-skewed-worker"]
    assert (skewed.runs, skewed.passed, skewed.seeds) == (3, 2, {1, 2, 3})
    assert (skewed.tickets, skewed.paid, skewed.refunded) == (14, 12, 2)  # passed runs only
    assert skewed.lost != NOTHING and len(skewed.failures) == 1
    assert rows["worker-killed-attest-down"].lost == NOTHING


def test_report__one_failed_run__table_lines_and_its_reason_printed(tmp_path: Path) -> None:
    runs = [_run("reorg-shallow", 5), _run("store-down", 5), _run("store-down", 6, passed=False)]
    out = io.StringIO()

    failed = report(runs, out)

    text = out.getvalue()
    assert failed == 1
    assert "3 run(s) from 1 commit(s): abc123" in text
    lines = {
        line.split()[0]: line.split() for line in text.splitlines() if line.startswith(("r", "s"))
    }
    assert lines["reorg-shallow"][1:4] == ["1", "1", "1"] and lines["reorg-shallow"][-1] == NOTHING
    assert lines["store-down"][1:3] == ["2", "1"]
    assert "store-down seed 6 (abc123): worker-1 reaching attest: not within 180 s" in text


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"scenario": "store-down", "seed": 1}), "missing commit, passed"),
    ],
)
def test_read__line_that_is_not_a_run__refused_with_file_and_line(
    tmp_path: Path, text: str, why: str
) -> None:
    path = tmp_path / "ledger.jsonl"
    append(path, _run("store-down", 1))
    path.write_text(path.read_text() + "\n" + text + "\n")

    with pytest.raises(LedgerError, match=rf"ledger.jsonl:3: not a fault-campaign run \({why}"):
        read([path])


def test_read__no_such_ledger__says_which_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No ledger at .*missing.jsonl"):
        read([tmp_path / "missing.jsonl"])


def test_claims__three_stacks_take_from_one_plan__each_run_taken_exactly_once(
    tmp_path: Path,
) -> None:
    tasks = [(name, seed) for seed in range(20) for name in ("a", "b", "c")]
    plan = write_plan(tmp_path / "plan.json", tasks)
    taken: list[list[tuple[str, int]]] = [[], [], []]

    def job(n: int) -> None:
        for task in claims(plan):
            taken[n].append(task)

    threads = [threading.Thread(target=job, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    everything = [task for share in taken for task in share]
    assert sorted(everything) == sorted(tasks)  # none twice, none missed
    assert list(claims(plan)) == []  # a late stack finds nothing left


def test_top_up__ledger_with_some_runs__plans_only_the_missing_runs_on_unused_seeds() -> None:
    runs = [_run("clock-skewed-worker", s) for s in (1200, 1201, 7)]
    runs += [_run("reorg-deep", 1200, passed=False), _run("other", 1)]

    plan = top_up(runs, ["reorg-deep", "clock-skewed-worker", "node-restarted"], 4, 1200)

    assert plan == [
        ("reorg-deep", 1201),
        ("clock-skewed-worker", 1202),  # 3 runs already (1201 and 1200 taken): 1 more
        ("node-restarted", 1200),
        ("reorg-deep", 1202),  # its failed run counts: 3 more, 1200 skipped
        ("node-restarted", 1201),
        ("reorg-deep", 1203),
        ("node-restarted", 1202),
        ("node-restarted", 1203),
    ]
    assert top_up(runs, ["clock-skewed-worker"], 3, 1200) == []


def test_of_commit__runs_of_two_commits__each_counted_apart_for_report_and_top_up() -> None:
    old = [_run("store-down", 1), _run("store-down", 2, passed=False)]
    new = [replace(_run("store-down", 3), commit="41840c0aa")]
    runs = old + new

    assert of_commit(runs, "41840C0") == new  # a prefix, any case
    assert of_commit(runs, "") == runs
    assert of_commit(runs, "41840c0, abc") == runs  # commits of the same product code
    out = io.StringIO()
    assert report(of_commit(runs, "41840c0"), out) == 0  # the older commit's failure left out
    assert "1 run(s) from 1 commit(s): 41840c0aa" in out.getvalue()
    # --to counts only the chosen commit's runs: two more runs of it, new seeds
    assert top_up(of_commit(runs, "41840c0"), ["store-down"], 3, 1) == [
        ("store-down", 1),
        ("store-down", 2),
    ]
