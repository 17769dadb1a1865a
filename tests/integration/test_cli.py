"""The command line: fit, predict, errors, help (in-process, tiny networks)."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest

from deepcluster_sk import AEGMM, ConvAEKMeans, DVAEClusterer, cli
from deepcluster_sk.cli import _build_parser, load_data, main

TINY = {
    "AEGMM": {"hidden_dims": [16], "n_epochs": 2, "batch_size": 64},
    "ConvAEKMeans": {
        "channels": [4],
        "latent_dim": 4,
        "n_components": 4,
        "n_epochs": 1,
        "batch_size": 64,
        "kmeans_n_init": 1,
    },
    "DVAEClusterer": {
        "hidden_dims": [16],
        "latent_dim": 4,
        "pretrain_epochs": 1,
        "n_epochs": 2,
        "warmup_epochs": 1,
        "batch_size": 64,
    },
}


def run(argv, capsys):
    """``main(argv)`` as the console script sees it: exit status, stdout, stderr."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse: --help and command-line syntax errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def small_digits():
    from sklearn.datasets import load_digits

    X, _ = load_digits(return_X_y=True)
    return (X[:200] / 16.0).astype(np.float32)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, small_digits):
    """One AEGMM fitted through the command line, shared by the predict tests."""
    folder = tmp_path_factory.mktemp("fitted")
    data = folder / "X.npy"
    np.save(data, small_digits)
    model = folder / "aegmm.joblib"
    code = main(
        [
            "fit",
            "aegmm",
            str(data),
            "--model",
            str(model),
            "--quiet",
            "--params",
            json.dumps(TINY["AEGMM"]),
        ]
    )
    assert code == 0
    return {"data": data, "model": model, "labels": folder / "aegmm_labels.npy"}


def fit_args(estimator, data, model, *extra):
    return [
        "fit",
        estimator,
        data,
        "--model",
        model,
        "--params",
        json.dumps(TINY[estimator]),
        *extra,
    ]


# ------------------------------------------------------------------------------ fit
def test_fit_npy_writes_model_and_labels_next_to_it(fitted, small_digits):
    model = joblib.load(fitted["model"])
    assert isinstance(model, AEGMM)
    assert model.random_state == 0
    assert model.verbose == 0
    labels = np.load(fitted["labels"])
    assert labels.shape == (small_digits.shape[0],)
    np.testing.assert_array_equal(labels, model.labels_)


def test_fit_prints_a_summary_and_a_progress_bar_on_a_terminal(
    tmp_path, small_digits, capsys, monkeypatch
):
    np.save(tmp_path / "X.npy", small_digits)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run(
        fit_args(
            "AEGMM", tmp_path / "X.npy", tmp_path / "m.joblib", "--n-clusters", 3, "--seed", 5
        ),
        capsys,
    )
    assert code == 0
    assert "200 samples" in out
    assert "3 clusters" in out
    assert str(tmp_path / "m_labels.npy") in out
    assert "[train]" in err  # the progress bar
    assert joblib.load(tmp_path / "m.joblib").get_params()["random_state"] == 5


def test_fit_with_n_clusters_auto_reports_the_count_it_chose(tmp_path, small_digits, capsys):
    np.save(tmp_path / "X.npy", small_digits)
    code, out, err = run(
        fit_args("AEGMM", tmp_path / "X.npy", tmp_path / "m.joblib", "--n-clusters", "AUTO", "-q"),
        capsys,
    )
    assert code == 0, err
    model = joblib.load(tmp_path / "m.joblib")
    assert model.get_params()["n_clusters"] == "auto"
    assert f"{model.n_clusters_} clusters" in out


@pytest.mark.parametrize(("flag", "bar"), [(None, False), ("--verbose", True), ("-q", False)])
def test_progress_bar_off_in_pipes_unless_asked(tmp_path, small_digits, capsys, flag, bar):
    np.save(tmp_path / "X.npy", small_digits)
    extra = [flag] if flag else []
    code, _, err = run(fit_args("AEGMM", tmp_path / "X.npy", tmp_path / "m.joblib", *extra), capsys)
    assert code == 0, err
    assert ("[train]" in err) is bar


def test_fit_npz_with_default_key_and_csv_labels(tmp_path, small_digits, capsys):
    np.savez(tmp_path / "d.npz", X=small_digits, y=np.zeros(200))
    labels = tmp_path / "labels.csv"
    code, _, err = run(
        fit_args(
            "DVAEClusterer",
            tmp_path / "d.npz",
            tmp_path / "m.joblib",
            "--labels",
            labels,
            "--quiet",
            "--n-clusters",
            4,
        ),
        capsys,
    )
    assert code == 0, err
    assert err == ""  # --quiet: no progress bar
    assert np.loadtxt(labels, dtype=int).shape == (200,)
    assert isinstance(joblib.load(tmp_path / "m.joblib"), DVAEClusterer)


def test_fit_npz_key_option(tmp_path, small_digits, capsys):
    np.savez(tmp_path / "d.npz", a=small_digits[:, :10], b=small_digits)
    code, _, err = run(
        fit_args("AEGMM", tmp_path / "d.npz", tmp_path / "m.joblib", "--key", "b", "-q"), capsys
    )
    assert code == 0, err
    assert joblib.load(tmp_path / "m.joblib").n_features_in_ == 64


@pytest.mark.parametrize("header", [True, False])
def test_fit_csv_with_and_without_header(tmp_path, small_digits, capsys, header):
    path = tmp_path / "d.csv"
    names = ",".join(f"pixel{i}" for i in range(64)) if header else ""
    np.savetxt(path, small_digits, delimiter=",", header=names, comments="")
    if not header:  # savetxt writes an empty first line for header=""
        path.write_text(path.read_text().lstrip("\n"))
    code, _, err = run(fit_args("AEGMM", path, tmp_path / "m.joblib", "-q"), capsys)
    assert code == 0, err
    assert np.load(tmp_path / "m_labels.npy").shape == (200,)


def test_csv_header_flag_skips_the_first_line(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("1,2\n3,4\n5,6\n")
    assert load_data(path)[0].shape == (3, 2)
    assert load_data(path, header=True)[0].shape == (2, 2)


def test_image_npy_passes_input_shape(tmp_path, small_digits, capsys):
    np.save(tmp_path / "img.npy", small_digits.reshape(-1, 8, 8))
    code, out, err = run(
        fit_args("ConvAEKMeans", tmp_path / "img.npy", tmp_path / "m.joblib", "-q"), capsys
    )
    assert code == 0, err
    model = joblib.load(tmp_path / "m.joblib")
    assert isinstance(model, ConvAEKMeans)
    assert model.input_shape == (1, 8, 8)
    assert tuple(model.input_shape_) == (1, 8, 8)
    assert model.n_features_in_ == 64
    assert "input_shape (1, 8, 8)" in out
    # predicting images of the fitted shape works; another shape with as many pixels fails
    labels = np.load(tmp_path / "m_labels.npy")
    code, stdout, err = run(["predict", tmp_path / "m.joblib", tmp_path / "img.npy"], capsys)
    assert code == 0, err
    np.testing.assert_array_equal([int(v) for v in stdout.split()], labels)
    np.save(tmp_path / "wide.npy", small_digits.reshape(-1, 4, 16))
    code, _, err = run(["predict", tmp_path / "m.joblib", tmp_path / "wide.npy"], capsys)
    assert_clean_error(code, err, "(1, 4, 16)", "(1, 8, 8)")


def test_params_file_input_shape_and_threads(tmp_path, small_digits, capsys):
    import torch

    np.save(tmp_path / "X.npy", small_digits)
    (tmp_path / "p.json").write_text(json.dumps(TINY["ConvAEKMeans"]))
    threads = torch.get_num_threads()
    code, _, err = run(
        [
            "fit",
            "ConvAEKMeans",
            tmp_path / "X.npy",
            "--model",
            tmp_path / "m.joblib",
            "--params",
            f"@{tmp_path / 'p.json'}",
            "--input-shape",
            "8,8",
            "--threads",
            1,
            "-q",
        ],
        capsys,
    )
    assert code == 0, err
    assert torch.get_num_threads() == threads  # restored after training
    model = joblib.load(tmp_path / "m.joblib")
    assert model.n_epochs == TINY["ConvAEKMeans"]["n_epochs"]
    assert tuple(model.input_shape_) == (1, 8, 8)


def test_load_data_four_dimensional_images(tmp_path):
    np.save(tmp_path / "img.npy", np.zeros((5, 3, 4, 2), dtype=np.uint8))
    X, shape = load_data(tmp_path / "img.npy")
    assert X.shape == (5, 24)
    assert X.dtype == np.float32
    assert shape == (3, 4, 2)


def test_dense_model_ignores_the_image_shape(tmp_path, small_digits, capsys):
    np.save(tmp_path / "img.npy", small_digits.reshape(-1, 8, 8))
    code, _, err = run(
        fit_args(
            "DVAEClusterer", tmp_path / "img.npy", tmp_path / "m.joblib", "-q", "--n-clusters", 3
        ),
        capsys,
    )
    assert code == 0, err
    assert joblib.load(tmp_path / "m.joblib").n_features_in_ == 64


# -------------------------------------------------------------------------- predict
def test_predict_reproduces_the_training_labels(fitted, tmp_path, capsys):
    out = tmp_path / "pred.npy"
    code, stdout, err = run(["predict", fitted["model"], fitted["data"], "--output", out], capsys)
    assert code == 0, err
    assert str(out) in stdout
    np.testing.assert_array_equal(np.load(out), np.load(fitted["labels"]))


def test_predict_prints_one_label_per_line(fitted, capsys):
    code, stdout, err = run(["predict", fitted["model"], fitted["data"]], capsys)
    assert code == 0, err
    printed = np.array([int(line) for line in stdout.splitlines()])
    np.testing.assert_array_equal(printed, np.load(fitted["labels"]))


def test_predict_proba_rows_sum_to_one(fitted, tmp_path, capsys):
    out = tmp_path / "proba.csv"
    code, _, err = run(["predict", fitted["model"], fitted["data"], "-o", out, "--proba"], capsys)
    assert code == 0, err
    proba = np.loadtxt(out, delimiter=",")
    assert proba.shape == (200, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(proba.argmax(axis=1), np.load(fitted["labels"]))


def test_predict_proba_to_stdout(fitted, capsys):
    code, stdout, err = run(["predict", fitted["model"], fitted["data"], "--proba"], capsys)
    assert code == 0, err
    proba = np.loadtxt(io.StringIO(stdout), delimiter=",")
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


# --------------------------------------------------------------------------- errors
def assert_clean_error(code, err, *fragments):
    assert code == 2
    assert "Traceback" not in err
    assert "error:" in err
    for fragment in fragments:
        assert fragment in err, err


def test_error_message_format(tmp_path, capsys):
    code, out, err = run(
        ["fit", "AEGMM", tmp_path / "missing.npy", "--model", tmp_path / "m.joblib"], capsys
    )
    assert_clean_error(code, err, "not found", "missing.npy")
    assert err.startswith("deepcluster-sk: error: ")
    assert err.count("\n") == 1
    assert out == ""


def _write_bad_files(folder, X):
    np.save(folder / "X.npy", X)
    np.save(folder / "nan.npy", np.where(np.arange(X.size).reshape(X.shape) == 7, np.nan, X))
    np.save(folder / "vector.npy", X[:, 0])
    np.save(folder / "text.npy", np.array([["a", "b"], ["c", "d"]]))
    np.savez(folder / "two.npz", a=X, b=X)
    (folder / "words.csv").write_text("1,2,3\n4,five,6\n")
    (folder / "mixed_header.csv").write_text("id,1,2\n4,5,6\n")
    (folder / "ragged.csv").write_text("1,2,3\n4,5\n")
    (folder / "nan.csv").write_text("1,2\nnan,4\n5,6\n")
    (folder / "narrow.csv").write_text("a,b\n1,2\n3,4\n")
    (folder / "garbage.npy").write_bytes(b"this is not numpy")
    (folder / "empty.npy").write_bytes(b"")
    (folder / "garbage.npz").write_bytes(b"PK\x03\x04 is not a zip archive")
    (folder / "X.txt").write_text("1 2\n")
    (folder / "notes.joblib").write_text("not a pickle\n")
    with open(folder / "truncated.joblib", "wb") as f:
        f.write(pickle.dumps(AEGMM())[:20])
    joblib.dump({"a": 1}, folder / "dict.joblib")
    joblib.dump(AEGMM(), folder / "unfitted.joblib")


FIT_ERRORS = {
    "missing data file": (["fit", "AEGMM", "{d}/nope.npy", "--model", "{d}/m.joblib"], "not found"),
    "data folder": (["fit", "AEGMM", "{d}", "--model", "{d}/m.joblib"], "folder"),
    "unsupported extension": (["fit", "AEGMM", "{d}/X.txt", "--model", "{d}/m.joblib"], ".txt"),
    "unreadable npy": (
        ["fit", "AEGMM", "{d}/garbage.npy", "--model", "{d}/m.joblib"],
        "not a readable .npy",
    ),
    "empty npy": (["fit", "AEGMM", "{d}/empty.npy", "--model", "{d}/m.joblib"], "empty.npy"),
    "unreadable npz": (
        ["fit", "AEGMM", "{d}/garbage.npz", "--model", "{d}/m.joblib"],
        "not a readable .npz",
    ),
    "non-numeric npy": (["fit", "AEGMM", "{d}/text.npy", "--model", "{d}/m.joblib"], "numbers"),
    "non-numeric csv": (["fit", "AEGMM", "{d}/words.csv", "--model", "{d}/m.joblib"], "five"),
    "mixed header csv": (
        ["fit", "AEGMM", "{d}/mixed_header.csv", "--model", "{d}/m.joblib"],
        "--header",
    ),
    "ragged csv": (["fit", "AEGMM", "{d}/ragged.csv", "--model", "{d}/m.joblib"], "ragged.csv"),
    "NaN in npy": (["fit", "AEGMM", "{d}/nan.npy", "--model", "{d}/m.joblib"], "NaN"),
    "NaN in csv": (["fit", "AEGMM", "{d}/nan.csv", "--model", "{d}/m.joblib"], "NaN"),
    "1-D data": (["fit", "AEGMM", "{d}/vector.npy", "--model", "{d}/m.joblib"], "shape"),
    "npz without X": (["fit", "AEGMM", "{d}/two.npz", "--model", "{d}/m.joblib"], "a, b"),
    "npz bad key": (
        ["fit", "AEGMM", "{d}/two.npz", "--model", "{d}/m.joblib", "--key", "c"],
        "'c'",
    ),
    "bad JSON": (
        ["fit", "AEGMM", "{d}/X.npy", "--model", "{d}/m.joblib", "--params", "{n_epochs: 2}"],
        "JSON",
    ),
    "JSON not an object": (
        ["fit", "AEGMM", "{d}/X.npy", "--model", "{d}/m.joblib", "--params", "[1, 2]"],
        "JSON object",
    ),
    "unknown estimator": (
        ["fit", "KMeans", "{d}/X.npy", "--model", "{d}/m.joblib"],
        "unknown estimator",
    ),
    "unknown parameter": (
        ["fit", "AEGMM", "{d}/X.npy", "--model", "{d}/m.joblib", "--params", '{"n_epoch": 2}'],
        "n_epoch",
    ),
    "invalid parameter value": (
        ["fit", "AEGMM", "{d}/X.npy", "--model", "{d}/m.joblib", "--params", '{"n_epochs": -1}'],
        "n_epochs",
    ),
    "invalid n_clusters": (
        ["fit", "AEGMM", "{d}/X.npy", "--model", "{d}/m.joblib", "--n-clusters", "0"],
        "n_clusters",
    ),
    "more clusters than samples": (
        ["fit", "AEGMM", "{d}/X.npy", "--model", "{d}/m.joblib", "--n-clusters", "500"],
        "n_clusters",
    ),
    "invalid device": (
        ["fit", "AEGMM", "{d}/X.npy", "--model", "{d}/m.joblib", "--device", "tpu9"],
        "device",
    ),
    "input_shape not matching (DVAE)": (
        ["fit", "DVAEClusterer", "{d}/X.npy", "--model", "{d}/m.joblib", "--input-shape", "1,5,5"],
        "input_shape",
    ),
    "input_shape not matching": (
        ["fit", "ConvAEKMeans", "{d}/X.npy", "--model", "{d}/m.joblib", "--input-shape", "1,5,5"],
        "input_shape",
    ),
    "bad labels extension": (
        ["fit", "AEGMM", "{d}/X.npy", "--model", "{d}/m.joblib", "--labels", "{d}/l.txt"],
        ".txt",
    ),
    "model folder missing": (
        ["fit", "AEGMM", "{d}/X.npy", "--model", "{d}/no/m.joblib"],
        "does not exist",
    ),
}

PREDICT_ERRORS = {
    "missing model": (["predict", "{d}/nope.joblib", "{d}/X.npy"], "not found"),
    "not a pickle": (["predict", "{d}/notes.joblib", "{d}/X.npy"], "cannot load"),
    "truncated pickle": (["predict", "{d}/truncated.joblib", "{d}/X.npy"], "cannot load"),
    "data file as model": (["predict", "{d}/X.npy", "{d}/X.npy"], "cannot load"),
    "not our estimator": (["predict", "{d}/dict.joblib", "{d}/X.npy"], "dict"),
    "unfitted estimator": (["predict", "{d}/unfitted.joblib", "{d}/X.npy"], "not fitted"),
    "wrong feature count": (["predict", "{model}", "{d}/narrow.csv"], "fitted on 64"),
    "NaN in data": (["predict", "{model}", "{d}/nan.npy"], "NaN"),
    "missing data": (["predict", "{model}", "{d}/nope.csv"], "not found"),
    "bad output extension": (["predict", "{model}", "{d}/X.npy", "-o", "{d}/p.json"], ".json"),
    "output folder missing": (
        ["predict", "{model}", "{d}/X.npy", "-o", "{d}/no/p.npy"],
        "does not exist",
    ),
}


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, small_digits):
    folder = tmp_path_factory.mktemp("bad")
    _write_bad_files(folder, small_digits)
    return folder


@pytest.mark.parametrize("case", sorted(FIT_ERRORS))
def test_fit_errors_exit_2_without_traceback(case, bad_files, capsys):
    argv, fragment = FIT_ERRORS[case]
    argv = [a.replace("{d}", str(bad_files)) for a in argv]
    if "--params" not in argv:
        argv += ["--params", json.dumps(TINY[argv[1]] if argv[1] in TINY else {})]
    code, _, err = run([*argv, "-q"], capsys)
    assert_clean_error(code, err, fragment)
    assert not (bad_files / "m.joblib").exists()


@pytest.mark.parametrize("case", sorted(PREDICT_ERRORS))
def test_predict_errors_exit_2_without_traceback(case, bad_files, fitted, capsys):
    argv, fragment = PREDICT_ERRORS[case]
    argv = [a.replace("{d}", str(bad_files)).replace("{model}", str(fitted["model"])) for a in argv]
    code, _, err = run(argv, capsys)
    assert_clean_error(code, err, fragment)


def test_proba_of_a_model_without_it(tmp_path, small_digits, capsys):
    np.save(tmp_path / "X.npy", small_digits)
    code, _, err = run(
        fit_args(
            "ConvAEKMeans", tmp_path / "X.npy", tmp_path / "m.joblib", "-q", "--n-clusters", 3
        ),
        capsys,
    )
    assert code == 0, err
    code, _, err = run(["predict", tmp_path / "m.joblib", tmp_path / "X.npy", "--proba"], capsys)
    assert_clean_error(code, err, "predict_proba")


def test_bad_input_shape_syntax_is_a_usage_error(tmp_path, capsys):
    code, _, err = run(
        [
            "fit",
            "ConvAEKMeans",
            tmp_path / "X.npy",
            "--model",
            tmp_path / "m.joblib",
            "--input-shape",
            "8,eight",
        ],
        capsys,
    )
    assert code == 2
    assert "--input-shape" in err
    assert "Traceback" not in err


def test_keyboard_interrupt_is_not_swallowed(monkeypatch, tmp_path, small_digits):
    np.save(tmp_path / "X.npy", small_digits)

    def interrupted(self, X, y=None):
        raise KeyboardInterrupt("interrupted by the test")

    monkeypatch.setattr(AEGMM, "fit_predict", interrupted)
    with pytest.raises(KeyboardInterrupt, match="interrupted by the test"):
        main(["fit", "AEGMM", str(tmp_path / "X.npy"), "--model", str(tmp_path / "m.joblib")])


# ----------------------------------------------------------------------- help, demo
@pytest.mark.parametrize("command", [[], ["demo"], ["fit"], ["predict"]])
def test_help_of_every_subcommand(command, capsys):
    code, out, _ = run([*command, "--help"], capsys)
    assert code == 0
    assert "usage: deepcluster-sk" in out
    assert "example" in out


def test_every_subcommand_has_a_description_and_an_example():
    parser = _build_parser()
    (subparsers,) = [a for a in parser._actions if a.choices and "fit" in a.choices]
    assert set(subparsers.choices) == {"demo", "fit", "predict"}
    for sub in subparsers.choices.values():
        assert sub.description
        assert "deepcluster-sk" in sub.epilog


def test_python_m_help_runs():
    result = subprocess.run(
        [sys.executable, "-m", "deepcluster_sk", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "predict" in result.stdout
    assert "benchmarks/" in result.stdout  # the harness is in the repository, not the package


def test_the_package_holds_no_benchmark_harness():
    import importlib.util

    assert importlib.util.find_spec("deepcluster_sk._benchmark") is None


def test_every_estimator_is_known_by_name_in_any_case():
    from deepcluster_sk import all_estimators

    for name, cls in all_estimators():
        assert cli._estimator_class(name.upper()) is cls
        assert name in cli._estimator_names()


def test_demo_uses_every_estimator_on_8x8_images():
    from sklearn.cluster import KMeans

    from deepcluster_sk import all_estimators

    baseline, *estimators = cli._demo_estimators(seed=3, device="cpu")
    assert isinstance(baseline, KMeans) and baseline.random_state == 3
    assert [type(e) for e in estimators] == [cls for _, cls in all_estimators()]
    for est in estimators:
        assert est.get_params()["input_shape"] == (1, 8, 8)
        assert est.random_state == 3


def test_demo_prints_the_kmeans_baseline_row(monkeypatch, capsys):
    from sklearn.cluster import KMeans

    def tiny(seed, device):
        return [
            KMeans(10, n_init=1, random_state=seed),
            AEGMM(10, hidden_dims=(8,), n_epochs=1, random_state=seed, device=device),
        ]

    monkeypatch.setattr(cli, "_demo_estimators", tiny)
    code, out, _ = run(["demo", "--device", "cpu"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[2].startswith("KMeans") and lines[3].startswith("AEGMM")
    acc = float(lines[2].split()[1])
    assert 0.5 < acc <= 1.0


def test_demo_prints_a_table_with_the_total(monkeypatch, capsys):
    def tiny(seed, device):
        return [AEGMM(10, hidden_dims=(8,), n_epochs=1, random_state=seed, device=device)]

    monkeypatch.setattr(cli, "_demo_estimators", tiny)
    code, out, _ = run(["demo", "--device", "cpu"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[2].startswith("AEGMM")
    assert lines[-1].startswith("total")


def test_interrupted_save_leaves_the_previous_model_and_labels_whole(
    tmp_path, small_digits, monkeypatch
):
    """Ctrl-C while the files are written: the old model/labels pair stays, no temp files."""
    import deepcluster_sk.cli as cli

    data = tmp_path / "X.npy"
    np.save(data, small_digits)
    model, labels = tmp_path / "m.joblib", tmp_path / "m_labels.npy"
    assert main(fit_args("AEGMM", str(data), str(model), "--quiet")) == 0
    model_bytes, labels_bytes = model.read_bytes(), labels.read_bytes()

    def interrupted_writer(path, values):
        def write(fh):
            fh.write(b"partial")
            raise KeyboardInterrupt("interrupted by the test")

        return write

    monkeypatch.setattr(cli, "_array_writer", interrupted_writer)
    with pytest.raises(KeyboardInterrupt, match="interrupted by the test"):
        main(fit_args("AEGMM", str(data), str(model), "--quiet", "--seed", "3"))
    assert model.read_bytes() == model_bytes
    assert labels.read_bytes() == labels_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X.npy", "m.joblib", "m_labels.npy"]


def test_saved_files_get_ordinary_permissions(tmp_path, small_digits):
    data = tmp_path / "X.npy"
    np.save(data, small_digits)
    model = tmp_path / "m.joblib"
    assert main(fit_args("AEGMM", str(data), str(model), "--quiet")) == 0
    umask = os.umask(0)
    os.umask(umask)
    assert model.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize(
    "error",
    [RuntimeError("CUDA error: out of memory"), ImportError("No module named 'umap'")],
    ids=["RuntimeError", "ImportError"],
)
def test_any_error_of_a_fit_is_one_line_and_status_2(
    error, tmp_path, small_digits, monkeypatch, capsys
):
    """Not only the input errors: a failure inside the fit (a torch RuntimeError, a missing
    package) is one line naming its type, and ``--debug`` shows the traceback instead."""
    np.save(tmp_path / "X.npy", small_digits)

    def failing_fit(self, X, y=None):
        raise error

    monkeypatch.setattr(AEGMM, "fit", failing_fit)
    argv = fit_args("AEGMM", tmp_path / "X.npy", tmp_path / "m.joblib", "-q")
    code, _, err = run(argv, capsys)
    assert_clean_error(code, err, type(error).__name__, str(error.args[0]), "--debug")
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.joblib").exists()
    with pytest.raises(type(error), match=str(error.args[0]).split(":")[0]):
        main(["--debug", *[str(a) for a in argv]])
