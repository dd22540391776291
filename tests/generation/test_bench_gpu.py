"""bench/gpu.py at tiny size on CPU: the same code a GPU run uses (build from
config, studio vs raw, peak memory, torch.compile, FLOPs and utilization).
Its figures are the benchmark's business; this checks that each one is measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.generation.conftest import require_ml

ROOT = Path(__file__).resolve().parents[2]
TINY_ARGS = ("--tiny", "--repeats", "1")


def test_gpu_bench_runs_tiny_on_cpu(tmp_path: Path) -> None:
    require_ml()
    out = tmp_path / "gpu.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu.py"), *TINY_ARGS, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["tiny"] is True and results["device"] == "cpu"
    rows = {row["model"]: row for row in results["models"]}
    assert set(rows) == {"wan2_2-ti2v-5b", "ltx-video"}
    for key, row in rows.items():
        assert row["size"] == [64, 32, 9] and row["steps"] == 2
        assert row["raw_s"] > 0 and row["studio_s"] > 0
        # The ratio is of the unrounded times; the times are printed rounded.
        assert row["studio_over_raw"] == pytest.approx(row["studio_s"] / row["raw_s"], rel=2e-3)
        assert row["peak_memory_gb"] > 0 and row["registry_memory_gb"] > 0
        assert row["compile"]["backend"] == "eager" and row["compile"]["speedup"] > 0
        assert row["transformer_gflop_per_forward"] > 0
        assert 0 < row["mfu"] < 1 and row["peak_tflops"] > 0
        assert key in done.stdout and "studio/raw" in done.stdout
    # The 5B's tiny transformer is smaller than the LTX one's: FLOPs follow the architecture.
    assert (
        rows["wan2_2-ti2v-5b"]["transformer_gflop_per_forward"]
        != (rows["ltx-video"]["transformer_gflop_per_forward"])
    )
