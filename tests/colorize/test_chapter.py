"""The held-out chapters' crops: every strategy's hypercolumns, each canvas window computed once."""
import h5py
import numpy as np

from mangacolor.colorize.chapter import page_key, write_crops
from mangacolor.colorize.strategies import CropPlan
from mangacolor.features.backbone import Hypercolumns
from mangacolor.features.hypercolumns import compute


def test_shared_windows_are_computed_once_and_equal_each_strategy_alone(tmp_path, pages_kit, monkeypatch):
    pages = pages_kit.make_pages(tmp_path / "pages", n=2)
    model = Hypercolumns.from_weights("random", [3], grid=8)
    from mangacolor.features import hypercolumns

    counted = []
    real = hypercolumns.compute
    monkeypatch.setattr(hypercolumns, "compute", lambda m, crops, **kw: counted.append(len(crops)) or
                        real(m, crops, **kw))
    out = tmp_path / "crops.h5"
    write_crops(pages, out, model, ["tiles", "overlap", "page"], overlap_stride=56, canvas=448, tile=112,
                batch_size=4, device="cpu", precision="float32")
    with h5py.File(out) as f:
        for i in range(2):
            plans = {s: CropPlan.load(f[f"{page_key(i)}/{s}"]) for s in ("tiles", "overlap")}
            for s, plan in plans.items():
                alone = compute(model, plan.crops, batch_size=4, device="cpu").astype(np.float16)
                np.testing.assert_array_equal(f[f"{page_key(i)}/{s}/x"][()], alone)
            assert {tuple(o) for o in plans["tiles"].origins} <= {tuple(o) for o in plans["overlap"].origins}
            assert counted[i] == len(plans["overlap"])  # the tiles' windows were not computed again
            assert f[f"{page_key(i)}/native/x"].shape[0] == model.channels
