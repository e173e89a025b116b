"""The vq-benchmark console script installed with the wheel: the Rust CLI, in-process."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import sqlite3
import subprocess
import sys

import pytest

EXE = shutil.which("vq-benchmark", path=os.path.dirname(sys.executable)) or shutil.which("vq-benchmark")


def run(*args: str, cwd: pathlib.Path | None = None) -> subprocess.CompletedProcess[str]:
    assert EXE, "vq-benchmark is not on PATH next to this Python"
    return subprocess.run([EXE, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_help_exits_zero() -> None:
    r = run("--help")
    assert r.returncode == 0, r.stderr
    assert "Usage: vq-benchmark <COMMAND>" in r.stdout and "sweep" in r.stdout


def test_info_names_the_simd_level() -> None:
    import vq

    r = run("info")
    assert r.returncode == 0
    assert f"simd level: {vq.simd_level()}" in r.stdout
    assert r.stdout.startswith(f"vq {vq.__version__}\n")


def test_bad_flag_is_one_line_and_nonzero() -> None:
    r = run("sweep", "--no-such-flag")
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--no-such-flag" in lines[0], r.stderr


def test_sweep_writes_its_sqlite_db(tmp_path: pathlib.Path) -> None:
    db = tmp_path / "runs.db"
    r = run(
        "sweep", "--dataset", "dummy", "--num-samples", "600", "--dim", "16", "--num-queries", "20",
        "--pq-chunks", "2,4", "--pq-clusters", "16", "--method", "pq,sq", "--sq-bits", "8",
        "--with-recall", "--db", str(db), cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT method, config_json, metrics_json FROM runs ORDER BY id").fetchall()
    configs = sorted((m, json.loads(c).get("num_chunks", 0)) for m, c, _ in rows)
    assert configs == [("pq", 2), ("pq", 4), ("sq", 0)], configs
    assert all(0.0 < json.loads(mj)["recall@10"] <= 1.0 for _, _, mj in rows)
    assert list(tmp_path.glob("*.csv")), "a sweep also writes its CSV"


def test_export_output_reaches_a_pipe(tmp_path: pathlib.Path) -> None:
    # stdout written by Rust in-process must be flushed before Python exits.
    db = tmp_path / "runs.db"
    assert run("run", "--num-samples", "300", "--dim", "8", "--num-chunks", "2", "--num-clusters", "8",
               "--db", str(db), cwd=tmp_path).returncode == 0
    r = run("export", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("id,timestamp,") and len(r.stdout.splitlines()) == 2


@pytest.mark.skipif(sys.platform != "linux", reason="SIGPIPE")
def test_closed_pipe_ends_quietly(tmp_path: pathlib.Path) -> None:
    r = subprocess.run(f"'{EXE}' --help | head -n 1", shell=True, capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == ""


def test_slurm_script_calls_the_console_script(tmp_path: pathlib.Path) -> None:
    r = run("sweep", "--num-samples", "300", "--dim", "8", "--pq-chunks", "2", "--pq-clusters", "8",
            "--slurm-script", "job.sh", "--db", "runs.db", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    script = (tmp_path / "job.sh").read_text()
    commands = [line for line in script.splitlines() if not line.startswith("#")]
    assert any(f"{EXE} merge " in line for line in commands), script
    assert any(line.startswith(f"exec {EXE} sweep ") for line in commands), script


def test_the_run_log_records_the_command_not_the_interpreter(tmp_path: pathlib.Path) -> None:
    r = run("run", "--num-samples", "300", "--dim", "8", "--num-chunks", "2", "--num-clusters", "8",
            "--db", "runs.db", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(tmp_path / "runs.db") as db:
        (command,) = db.execute("SELECT cli_command FROM runs").fetchone()
    assert command.startswith(f"{EXE} run --num-samples 300 "), command


@pytest.mark.skipif(sys.platform != "linux", reason="SIGPIPE")
def test_run_cli_in_process_keeps_pythons_sigpipe() -> None:
    import ctypes
    import signal

    from vq import _vq

    libc = ctypes.CDLL(None)
    libc.signal.restype = ctypes.c_void_p
    libc.signal.argtypes = [ctypes.c_int, ctypes.c_void_p]

    def disposition() -> int | None:
        # The OS's (signal.getsignal only reports Python's own table): set, then put back.
        old = libc.signal(signal.SIGPIPE, 1)
        libc.signal(signal.SIGPIPE, old)
        return old  # type: ignore[no-any-return]

    assert disposition() == 1  # SIG_IGN, as Python sets it
    assert _vq.run_cli(["vq-benchmark", "info", "--simd-levels"]) == 0
    assert disposition() == 1
