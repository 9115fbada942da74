"""An ensemble of a run's classifiers: one model file whose output is the geometric mean of its members'."""
import pytest
import torch

from mangacolor.cli import main
from mangacolor.model.ensemble import write_ensemble
from mangacolor.model.heads import EnsembleHead
from mangacolor.model.load import load_model


def record_centers(model_file, heads):
    """Add the bin centres to a tiny run's model.pt metadata, as `annotate_run` does for a pipeline run."""
    saved = torch.load(model_file, weights_only=True)
    saved["meta"]["centers"] = torch.as_tensor(heads.centers(), dtype=torch.float32)
    torch.save(saved, model_file)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, heads):
    """Three tiny trained runs (sgd, adam classifiers with the lightness output; a regression head), each with
    its bin centres in its metadata, as `annotate_run` records them; and their training data."""
    tmp = tmp_path_factory.mktemp("ensemble")
    chapters = [heads.write_chapter(tmp, "ch1", 24, 1), heads.write_chapter(tmp, "ch2", 18, 2)]
    chapters = [f for f, _ in chapters], [lab for _, lab in chapters]
    out = {}
    for name, kw in {"classification-sgd": dict(optimizer="sgd", lr=0.05),
                     "classification-adam": dict(optimizer="adam", lr=0.01),
                     "regression-adam": dict(kind="regression", optimizer="adam", lr=0.01)}.items():
        heads.run(chapters, tmp / name, epochs=2, lightness_weight=0.0 if "regression" in name else 1.0, **kw)
        record_centers(tmp / name / "model.pt", heads)
        out[name] = tmp / name / "model.pt"
    return out, chapters, tmp


def test_the_ensemble_gives_the_geometric_mean_of_its_members(runs, heads):
    models, chapters, tmp = runs
    members = [models["classification-sgd"], models["classification-adam"]]
    write_ensemble(members, tmp / "ensemble" / "model.pt")
    ensemble, meta = load_model(tmp / "ensemble")  # weights-only, like every model file
    assert isinstance(ensemble, EnsembleHead) and meta["optimizer"] == "ensemble"
    assert meta["members"] == ["classification-sgd", "classification-adam"]
    assert meta["parameters"] == sum(p.numel() for p in ensemble.parameters())
    x = torch.randn(3, heads.C, heads.G, heads.G)
    with torch.no_grad():
        logp, light = ensemble(x, with_lightness=True)
        outs = [load_model(m)[0](x, with_lightness=True) for m in members]
    expected = (torch.log_softmax(outs[0][0], 1) + torch.log_softmax(outs[1][0], 1)) / 2
    assert torch.allclose(logp, expected, atol=1e-6)
    assert torch.allclose(light, (outs[0][1] + outs[1][1]) / 2, atol=1e-5)
    assert torch.allclose(ensemble(x), logp)  # the distributions alone, as decoding reads them


def test_members_must_be_classifiers_of_one_shape(runs, heads, tmp_path):
    models, chapters, _ = runs
    with pytest.raises(ValueError, match="regression-adam.*a regression head"):
        write_ensemble([models["classification-sgd"], models["regression-adam"]], tmp_path / "model.pt")
    with pytest.raises(ValueError, match="at least two"):
        write_ensemble([models["classification-sgd"]], tmp_path / "model.pt")
    wide = tmp_path / "wide"
    heads.run(chapters, wide, epochs=1, widths=(8,), lightness_weight=1.0)
    record_centers(wide / "model.pt", heads)
    with pytest.raises(ValueError, match=r"wide/model.pt: differs from .* in widths"):
        write_ensemble([models["classification-sgd"], wide / "model.pt"], tmp_path / "model.pt")
    assert not (tmp_path / "model.pt").exists()  # nothing written for a refused ensemble


def test_ensemble_command_calibrates_its_own_abstention(runs, heads, tmp_path, capsys):
    models, (features, labels), tmp = runs
    out = tmp_path / "ens" / "model.pt"
    main(["ensemble", "--models", str(models["classification-sgd"]), str(models["classification-adam"]),
          "--features", *map(str, features), "--labels", *map(str, labels),
          "--val-fraction", "0.25", "--seed", "3", "--temperature", "0.38", "--abstain-levels", "4",
          "--threads", "1", "--out", str(out)])
    meta = load_model(out)[1]
    assert len(meta["abstain"]["factors"]) == 4 and meta["abstain"]["cells"] > 0
    assert all(0 <= f <= 1 for f in meta["abstain"]["factors"])
    assert "abstention calibrated" in capsys.readouterr().out
