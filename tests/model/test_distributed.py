"""Multi-process training (training.processes): 2 processes on gloo follow 1 process with the same global batch."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from mangacolor.model.distributed import GlobalBatchNorm2d, global_batchnorm
from mangacolor.model.heads import build_model

# One training run, in each process torchrun starts: the training kwargs come as JSON.
SCRIPT = """
import json, sys
import numpy as np
from mangacolor.model.train import train
kw = json.loads(sys.argv[1])
kw["centers"], kw["class_weights"] = np.asarray(kw["centers"]), np.asarray(kw["class_weights"])
train(**kw)
"""


def training_kwargs(chapters, heads, out_dir, processes):
    return dict(features=[str(p) for p in chapters[0]], labels=[str(p) for p in chapters[1]], out_dir=str(out_dir),
                kind="classification", optimizer="adam", centers=heads.centers().tolist(), epochs=4, lr=0.01,
                batch_size=8, seed=3, device="cpu", threads=1, class_weights=np.linspace(0.5, 2, heads.Q).tolist(),
                widths=[16, 16], kernel=1, context=0, val_fraction=0.25, cell_fraction=1.0, temperature=0.38,
                processes=processes)


def run(script, kwargs, processes):
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)] \
        if processes > 1 else [sys.executable]
    proc = subprocess.run([*launch, str(script), json.dumps(kwargs)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_two_processes_on_gloo_follow_one_process(tmp_path, heads):
    chapters = [heads.write_chapter(tmp_path, "ch1", 24, 1), heads.write_chapter(tmp_path, "ch2", 18, 2)]
    chapters = ([c[0] for c in chapters], [c[1] for c in chapters])
    script = tmp_path / "train_one.py"
    script.write_text(SCRIPT)
    run(script, training_kwargs(chapters, heads, tmp_path / "one", 1), 1)
    out = run(script, training_kwargs(chapters, heads, tmp_path / "two", 2), 2)
    # both processes trained, each on half of every batch
    assert "process 0 of 2: 15 tiles per epoch in batches of 4" in out
    assert "process 1 of 2: 15 tiles per epoch in batches of 4" in out

    one, two = (pd.read_csv(tmp_path / d / "history.csv") for d in ("one", "two"))
    assert one.epoch.tolist() == two.epoch.tolist() == [1, 2, 3, 4]
    assert one.train_loss.iloc[-1] < one.train_loss.iloc[0]
    np.testing.assert_allclose(two.train_loss, one.train_loss, rtol=0.01)
    np.testing.assert_allclose(two.val_loss, one.val_loss, rtol=0.01)
    # the same weights, BatchNorm running statistics included (those of the global batch, not of one process's half)
    a, b = (torch.load(tmp_path / d / "model.pt", weights_only=False) for d in ("one", "two"))
    assert a["state_dict"].keys() == b["state_dict"].keys() and b["meta"]["processes"] == 2
    for key, value in a["state_dict"].items():
        torch.testing.assert_close(b["state_dict"][key], value, rtol=1e-3, atol=1e-4, msg=key)


def test_global_batchnorm_is_batchnorm_outside_a_process_group():
    torch.manual_seed(0)
    head = build_model("classification", 6, 10, (8, 8), 1, 0)
    converted = global_batchnorm(build_model("classification", 6, 10, (8, 8), 1, 0))
    converted.load_state_dict(head.state_dict())
    assert any(isinstance(m, GlobalBatchNorm2d) for m in converted.modules())
    x = torch.randn(4, 6, 5, 5) * 10
    torch.testing.assert_close(converted(x), head(x))
    torch.testing.assert_close(converted.state_dict(), head.state_dict())


def test_processes_without_torchrun_is_a_clear_error(tmp_path, heads):
    from mangacolor.model.train import train

    chapters = heads.write_chapter(tmp_path, "ch1", 6, 1)
    kw = training_kwargs(([chapters[0]], [chapters[1]]), heads, tmp_path / "run", 2)
    kw["centers"], kw["class_weights"] = heads.centers(), None
    with pytest.raises(RuntimeError, match="torchrun --nproc_per_node 2"):
        train(**kw)
    kw["batch_size"] = 7
    with pytest.raises(ValueError, match="multiple of processes 2"):
        train(**kw)
