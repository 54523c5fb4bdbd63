"""`carbonfoot ledger`, run as an operator runs it: the contract's commands and outputs."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

CARBONFOOT = shutil.which("carbonfoot") or str(Path(sys.executable).with_name("carbonfoot"))
TRIPS = (
    "trip_id,user_id,mode,distance,started_at\n"
    "a,u1,metro,4.0,2024-05-01T08:00:00+08:00\n"
    "b,u1,bus,10.0,2024-05-01T18:00:00+08:00\n"
    "c,u2,walk,2.0,2024-05-01T09:00:00+08:00\n"
    "d,u2,car,9.0,2024-05-01T10:00:00+08:00\n"
    "e,u3,teleport,2.0,2024-05-01T10:00:00+08:00\n"
)


CAP = ("--policy-param", "daily_cap=500")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CARBONFOOT_DATABASE_URL"}
    return subprocess.run(
        [CARBONFOOT, *args], capture_output=True, text=True, cwd=cwd, timeout=120, env=env
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "trips.csv").write_text(TRIPS)
    return tmp_path


def test_credit_uses_a_named_default_file_and_a_rerun_credits_nothing(workdir: Path) -> None:
    first = run("ledger", "credit", "trips.csv", "--policy-param", "daily_cap=100", cwd=workdir)
    assert first.returncode == 0, first.stderr
    assert "carbonfoot-ledger.db" in first.stderr  # the default database is named
    assert (workdir / "carbonfoot-ledger.db").exists()
    again = run("ledger", "credit", "trips.csv", "--policy-param", "daily_cap=100", cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert "credited 0 trips" in again.stdout, again.stdout
    assert "replayed 4" in again.stdout, again.stdout
    balance = run("ledger", "balance", "u1", cwd=workdir)
    assert balance.returncode == 0, balance.stderr
    assert int(balance.stdout.strip()) == 100  # metro and bus, capped at the daily 100
    detail = json.loads(run("ledger", "balance", "u1", "--json", cwd=workdir).stdout)
    assert detail["balances"] == {"credit": "100"}  # exact decimal text, never a float
    assert int(run("ledger", "balance", "nobody", cwd=workdir).stdout.strip()) == 0


def test_redeem_is_idempotent_and_refuses_an_overdraw(workdir: Path) -> None:
    db = str(workdir / "shop.db")
    assert run("ledger", "credit", "trips.csv", "--db", db, *CAP, cwd=workdir).returncode == 0
    held = int(run("ledger", "balance", "u2", "--db", db, cwd=workdir).stdout)
    spend = (
        "ledger",
        "redeem",
        "u2",
        str(held),
        "--request-id",
        "order-1",
        "--item",
        "bus pass",
        "--db",
        db,
    )
    first = run(*spend, cwd=workdir)
    assert first.returncode == 0, first.stderr
    retry = run(*spend, cwd=workdir)
    assert retry.returncode == 0, retry.stderr
    assert "already" in retry.stdout.lower(), retry.stdout
    assert int(run("ledger", "balance", "u2", "--db", db, cwd=workdir).stdout) == 0
    more = run(
        "ledger",
        "redeem",
        "u2",
        "1",
        "--request-id",
        "order-2",
        "--item",
        "x",
        "--db",
        db,
        cwd=workdir,
    )
    assert more.returncode != 0
    assert "insufficient balance" in more.stderr
    history = run("ledger", "history", "u2", "--db", db, cwd=workdir)
    assert history.returncode == 0, history.stderr
    assert "redeem:order-1" in history.stdout


def test_verify_passes_then_names_the_first_tampered_entry(workdir: Path) -> None:
    db = workdir / "audit.db"
    assert run("ledger", "credit", "trips.csv", "--db", str(db), *CAP, cwd=workdir).returncode == 0
    ok = run("ledger", "verify", "--db", str(db), cwd=workdir)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    with sqlite3.connect(db) as raw:  # an attacker who bypasses the append-only triggers
        raw.execute("DROP TRIGGER entries_are_append_only_update")
        raw.execute("UPDATE entries SET amount_minor = 99999 WHERE entry_id = 'credit:c'")
    bad = run("ledger", "verify", "--db", str(db), cwd=workdir)
    assert bad.returncode != 0
    assert "credit:c" in bad.stdout + bad.stderr


def test_recompute_dry_run_then_for_real_then_nothing(workdir: Path) -> None:
    db = str(workdir / "r.db")
    credit = run(
        "ledger", "credit", "trips.csv", "--db", db, "--factors", "uk-desnz-2024", *CAP, cwd=workdir
    )
    assert credit.returncode == 0, credit.stderr
    plan = run(
        "ledger",
        "recompute",
        "--factors",
        "uk-desnz-2025",
        "--since",
        "2024-05-01",
        "--dry-run",
        "--db",
        db,
        cwd=workdir,
    )
    assert plan.returncode == 0, plan.stderr
    assert "metro" in plan.stdout, plan.stdout
    assert "bus" in plan.stdout, plan.stdout
    export = workdir / "before.parquet"
    assert run("ledger", "export", "-o", str(export), "--db", db, cwd=workdir).returncode == 0
    assert (
        pq.read_table(export).num_rows == 5
    )  # 4 credits and the settings: the dry run wrote nothing
    done = run(
        "ledger",
        "recompute",
        "--factors",
        "uk-desnz-2025",
        "--since",
        "2024-05-01",
        "--db",
        db,
        cwd=workdir,
    )
    assert done.returncode == 0, done.stderr
    assert run("ledger", "export", "-o", str(export), "--db", db, cwd=workdir).returncode == 0
    adjusted = pq.read_table(export).num_rows - 5
    assert adjusted > 0
    second = run(
        "ledger",
        "recompute",
        "--factors",
        "uk-desnz-2025",
        "--since",
        "2024-05-01",
        "--db",
        db,
        cwd=workdir,
    )
    assert second.returncode == 0
    assert run("ledger", "export", "-o", str(export), "--db", db, cwd=workdir).returncode == 0
    assert pq.read_table(export).num_rows == 5 + adjusted  # nothing the second time
    assert run("ledger", "verify", "--db", db, cwd=workdir).returncode == 0


def test_a_bad_database_url_is_a_clear_error(workdir: Path) -> None:
    done = run("ledger", "balance", "u1", "--db", "mysql://nowhere/x", cwd=workdir)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr


def test_a_bad_database_url_names_the_scheme_in_one_line(workdir: Path) -> None:
    done = run("ledger", "balance", "u1", "--db", "mysql://nowhere/x", cwd=workdir)
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("error: unsupported database URL scheme 'mysql'")
    )


def test_verify_prints_the_head_and_checks_an_anchor(workdir: Path) -> None:
    db = str(workdir / "anchor.db")
    assert run("ledger", "credit", "trips.csv", "--db", db, *CAP, cwd=workdir).returncode == 0
    first = run("ledger", "verify", "--db", db, cwd=workdir)
    head = next(
        line.split(": ", 1)[1] for line in first.stdout.splitlines() if line.startswith("head: ")
    )
    assert len(head) == 64
    assert run("ledger", "verify", "--db", db, "--head", head, cwd=workdir).returncode == 0
    wrong = run("ledger", "verify", "--db", db, "--head", "ab" * 32, cwd=workdir)
    assert wrong.returncode == 1
    assert "is not a block of this chain" in wrong.stdout


def test_init_then_credit_then_other_settings_need_a_recorded_change(workdir: Path) -> None:
    db = str(workdir / "s.db")
    assert run("ledger", "init", "--db", db, cwd=workdir).returncode == 0
    assert run("ledger", "credit", "trips.csv", "--db", db, *CAP, cwd=workdir).returncode == 0
    other = run(
        "ledger", "credit", "trips.csv", "--db", db, "--policy-param", "daily_cap=600", cwd=workdir
    )
    assert other.returncode == 2
    assert "policy_params.daily_cap (600, not 500)" in other.stderr
    assert "--change-settings" in other.stderr
    same = run("ledger", "credit", "trips.csv", "--db", db, cwd=workdir)  # the ledger's own
    assert same.returncode == 0, same.stderr
    assert "replayed 4" in same.stdout
    uncapped = run("ledger", "credit", "trips.csv", "--db", str(workdir / "n.db"), cwd=workdir)
    assert uncapped.returncode == 2
    assert "daily_cap=unlimited" in uncapped.stderr


def test_review_lists_approves_and_refuses(workdir: Path) -> None:
    (workdir / "suspect.csv").write_text(
        "trip_id,user_id,mode,distance,started_at,ended_at\n"
        "f1,u1,walk,10,2024-05-01T08:00:00+08:00,2024-05-01T08:10:00+08:00\n"
        "f2,u2,walk,10,2024-05-01T08:00:00+08:00,2024-05-01T08:10:00+08:00\n"
    )
    db = str(workdir / "review.db")
    credited = run("ledger", "credit", "suspect.csv", "--db", db, *CAP, cwd=workdir)
    assert "quarantined 2" in credited.stdout
    listed = run("ledger", "review", "--db", db, cwd=workdir)
    assert listed.returncode == 0, listed.stderr
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["f1", "f2"]
    approved = run(
        "ledger",
        "review",
        "approve",
        "f1",
        "--reason",
        "GPS ok",
        "--reviewer",
        "ana",
        "--db",
        db,
        cwd=workdir,
    )
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.startswith("approved trip f1:")
    refused = run(
        "ledger", "review", "refuse", "f2", "--reason", "impossible", "--db", db, cwd=workdir
    )
    assert refused.returncode == 0, refused.stderr
    assert run("ledger", "review", "--db", db, cwd=workdir).stdout == ""
    again = run("ledger", "review", "approve", "f2", "--reason", "x", "--db", db, cwd=workdir)
    assert again.returncode == 2
    assert "refusal is final" in again.stderr
    assert run("ledger", "verify", "--db", db, cwd=workdir).returncode == 0


def test_history_cannot_be_forged_by_a_trip_id(workdir: Path) -> None:
    (workdir / "forge.csv").write_text(
        "trip_id,user_id,mode,distance,started_at\n"
        '"x\t9999\tcredit:fake\n1","u9",metro,3,2024-05-01T08:00:00+08:00\n'
    )
    db = str(workdir / "forge.db")
    assert run("ledger", "credit", "forge.csv", "--db", db, *CAP, cwd=workdir).returncode == 0
    lines = run("ledger", "history", "u9", "--db", db, cwd=workdir).stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].split("\t")[1] == "credit:x\\t9999\\tcredit:fake\\n1"


def test_a_malformed_row_in_a_big_file_costs_only_that_row(workdir: Path) -> None:
    def line(i: int) -> str:  # 500 users, 40 trips each, 20 minutes apart
        minutes = 6 * 60 + (i // 500) * 20
        return (
            f"t{i},u{i % 500},walk,1.0,2024-05-01T{minutes // 60:02d}:{minutes % 60:02d}:00+08:00\n"
        )

    lines = [line(i) for i in range(20_000)]
    lines[12_345] = 't12345,"u345,walk,1.0,2024-05-01T08:00:00+08:00\n'  # a quote never closed
    lines[17_000] = line(17_000).rstrip("\n") + ",surplus\n"
    (workdir / "big.csv").write_text("trip_id,user_id,mode,distance,started_at\n" + "".join(lines))
    result = run("ledger", "credit", "big.csv", *CAP, cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "credited 19,998 trips" in result.stdout, result.stdout
    assert "rejected 2" in result.stdout, result.stdout
