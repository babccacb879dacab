"""Checkpointed GLIDER runs: a run killed with SIGKILL resumes to the uninterrupted result; other
settings are refused; a chunk whose model raises is retried, reported, and the run completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from glider_plugins import Glider, GlobalInteractions
from glider_plugins.errors import InputError, ModelError
from tests.groundtruth.planted import planted_function, planted_instances

ROOT = Path(__file__).resolve().parents[1]
RUN = dict(top_k=3, baselines=0.0, seed=5, chunk_size=10, show_progress=False)

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from glider_plugins import Glider
    from tests.groundtruth.planted import planted_function, planted_instances

    def slow_planted(x):
        time.sleep(0.4)  # slow enough to be killed between chunks
        return planted_function(x)

    folder, out = sys.argv[1], sys.argv[2]
    g = Glider(slow_planted, detector="archdetect").detect(
        planted_instances(80, seed=2), checkpoint=folder, top_k=3, baselines=0.0, seed=5, chunk_size=10, show_progress=False)
    g.to_json(out)
    """
)


def _start(script: Path, folder: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.Popen([sys.executable, str(script), str(folder), str(out)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_killed_run_resumes_from_its_checkpoint_to_the_uninterrupted_result(tmp_path):
    script, folder, out = tmp_path / "run.py", tmp_path / "ckpt", tmp_path / "result.json"
    script.write_text(SCRIPT)
    proc = _start(script, folder, out)
    deadline = time.monotonic() + 60
    while len(list(folder.glob("chunk-*.json"))) < 3:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no chunk stored within 60 s"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stored = sorted(folder.glob("chunk-*.json"))
    assert proc.returncode == -signal.SIGKILL and not out.exists() and 3 <= len(stored) < 8
    for file in stored:  # atomic writes: every stored file is whole
        assert len(json.loads(file.read_text())["instance_ids"]) == 10

    proc = _start(script, folder, out)
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()[-2000:]
    resumed = GlobalInteractions.from_json(out)
    uninterrupted = Glider(planted_function, detector="archdetect").detect(planted_instances(80, seed=2), **RUN)
    assert resumed == uninterrupted and resumed.n_instances == 80
    assert resumed.metadata["resumed_chunks"] == len(stored) and uninterrupted.metadata["resumed_chunks"] == 0
    assert len(list(folder.glob("chunk-*.json"))) == 8


def test_a_finished_checkpoint_is_reused_and_other_settings_are_refused(tmp_path):
    data = planted_instances(30, seed=3)
    glider = Glider(planted_function, detector="archdetect")
    first = glider.detect(data, checkpoint=tmp_path, **RUN)
    again = glider.detect(data, checkpoint=tmp_path, **RUN)
    assert again == first and again.metadata["resumed_chunks"] == 3 and first.metadata["resumed_chunks"] == 0
    with pytest.raises(InputError, match=r"checkpoint: .* other settings \(seed: checkpoint has 5, this run 6"):
        glider.detect(data, checkpoint=tmp_path, **{**RUN, "seed": 6})
    with pytest.raises(InputError, match=r"checkpoint: .*other settings \(data: checkpoint has"):
        glider.detect(data + 0.1, checkpoint=tmp_path, **RUN)
    with pytest.raises(InputError, match=r"other settings \(top_k"):
        glider.detect(data, checkpoint=tmp_path, **{**RUN, "top_k": 4})
    with pytest.raises(InputError, match="checkpoint: a resumable run needs a seed"):
        glider.detect(data, checkpoint=tmp_path / "other", **{**RUN, "seed": None})


class Flaky:
    """The planted function, raising on any row whose feature 0 holds ``marker`` while ``broken``."""

    def __init__(self, marker: float) -> None:
        self.marker, self.broken, self.raised = marker, True, 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.broken and (x[:, 0] == self.marker).any():
            self.raised += 1
            raise RuntimeError("the model cannot score these rows")
        return planted_function(x)


def test_a_failing_chunk_is_retried_reported_and_the_run_completes_then_resumes(tmp_path):
    data = planted_instances(50, seed=4)
    data[25, 0] = 7.0  # instance 25 sits in chunk 2 (instances 20..29)
    model = Flaky(7.0)
    glider = Glider(model, detector="archdetect")
    with pytest.warns(RuntimeWarning, match=r"1 chunk\(s\) failed after 3 tries .* instances \[20, 21, 22"):
        partial = glider.detect(data, checkpoint=tmp_path, retries=2, **RUN)
    assert model.raised == 3 and partial.n_instances == 40
    failed = partial.metadata["failed_chunks"]
    assert [f["index"] for f in failed] == [2] and failed[0]["instance_ids"] == list(range(20, 30))
    assert "the model cannot score these rows" in failed[0]["error"] and failed[0]["attempts"] == 3
    assert len(list(tmp_path.glob("chunk-*.json"))) == 4  # the failed chunk is not stored

    model.broken = False  # fixed: a rerun computes only the missing chunk
    complete = glider.detect(data, checkpoint=tmp_path, **RUN)
    assert complete.metadata["resumed_chunks"] == 4 and complete.metadata["failed_chunks"] == []
    assert complete == Glider(planted_function, detector="archdetect").detect(data, **RUN)

    with pytest.raises(ModelError, match="every chunk failed"):
        Glider(Flaky(data[0, 0]), detector="archdetect").detect(data[:10], retries=0, **RUN)


def test_file_system_errors_name_the_checkpoint_and_leave_nothing_half_written(tmp_path):
    """Issue 27, defect 8: raw OSErrors escaped. A path under a regular file, and a chunk that
    cannot be stored (its file name taken by a folder), each give a CheckpointError naming the
    checkpoint and the path; the run that failed leaves no temporary file behind."""
    from glider_plugins.errors import CheckpointError

    data = planted_instances(30, seed=3)
    glider = Glider(planted_function, detector="archdetect")
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(CheckpointError, match=r"checkpoint: could not create the folder '.*a-file/run' \(NotADirectoryError"):
        glider.detect(data, checkpoint=tmp_path / "a-file" / "run", **RUN)
    folder = tmp_path / "run"
    (folder / "chunk-000001.json").mkdir(parents=True)  # chunk 1's file cannot be replaced
    with pytest.raises(CheckpointError, match=r"checkpoint: could not write chunk 1 '.*chunk-000001.json' \(IsADirectoryError"):
        glider.detect(data, checkpoint=folder, **RUN)
    assert not [f for f in os.listdir(folder) if f.endswith(".tmp")]
    assert sorted(os.listdir(folder)) == ["chunk-000000.json", "chunk-000001.json", "header.json"]  # chunk 0 kept for a resume
    header = tmp_path / "broken" / "header.json"
    header.mkdir(parents=True)
    with pytest.raises(CheckpointError, match=r"checkpoint: could not read the header '.*header.json' \(IsADirectoryError"):
        glider.detect(data, checkpoint=header.parent, **RUN)
    assert isinstance(CheckpointError("x"), OSError)  # code that catches OSError still does
