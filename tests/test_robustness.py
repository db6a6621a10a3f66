"""The robustness stage's glue: noisy training labels replace only the training videos' labels, and the
corruption report counts every corrupted copy's decode status."""

from __future__ import annotations

import pandas as pd
import pytest

from noisyactions.config import ConfigError, load_config
from noisyactions.robustness.relabel import relabel_training_videos
from noisyactions.robustness.run import corruption_report

from conftest import REPO


def _lists(tmp_path, lines: list[str]):
    (tmp_path / "classInd.txt").write_text("1 Archery\n2 Bowling\n3 Diving\n")
    (tmp_path / "trainlist01.txt").write_text("".join(f"{line}\r\n" for line in lines))
    return tmp_path / "trainlist01.txt", tmp_path / "classInd.txt"


def _index() -> pd.DataFrame:
    return pd.DataFrame({"path": ["r/UCF-101/Archery/v_Archery_g01_c01.avi", "r/UCF-101/Bowling/v_Bowling_g01_c01.avi",
                                  "r/UCF-101/Diving/v_Diving_g01_c01.avi"],
                         "target": [0, 1, 2], "split": ["train", "train", "test"]})


def test_noisy_labels_replace_the_training_labels_only(tmp_path):
    trainlist, class_index = _lists(tmp_path, ["Archery/v_Archery_g01_c01.avi 3", "Bowling/v_Bowling_g01_c01.avi 2"])
    index = relabel_training_videos(_index(), trainlist, class_index)
    assert list(index["target"]) == [2, 1, 2] and list(_index()["target"]) == [0, 1, 2]


def test_a_training_video_missing_from_the_noisy_list_is_an_error_naming_it(tmp_path):
    trainlist, class_index = _lists(tmp_path, ["Archery/v_Archery_g01_c01.avi 3"])
    with pytest.raises(ValueError, match=r"trainlist01.txt has no label for 1 training videos.*v_Bowling_g01_c01.avi"):
        relabel_training_videos(_index(), trainlist, class_index)


def test_corruption_report_counts_each_copy(tmp_path):
    for name, statuses in (("ucf101_random", ["ok", "ok", "partial"]), ("ucf101_contiguous", ["undecodable", "partial", "undecodable"])):
        (tmp_path / name).mkdir()
        pd.DataFrame({"split": ["train", "test", "test"], "status": statuses}).to_parquet(tmp_path / name / "index.parquet")
    outputs = {"csv": tmp_path / "report.csv", "md": tmp_path / "report.md"}
    report = corruption_report({name: tmp_path / name / "index.parquet" for name in ("ucf101_random", "ucf101_contiguous")}, outputs)
    assert report.columns[0] == "corruption" and set(report["corruption"]) == {"ucf101_random", "ucf101_contiguous"}
    assert "ucf101_contiguous" in outputs["md"].read_text() and outputs["csv"].read_text().startswith("corruption,")


def test_noise_rates_must_name_distinct_copies():
    with pytest.raises(ConfigError, match=r"key robustness.label_noise.rates: \[0.4, 0.401\] round to the same whole percent"):
        load_config(REPO / "config" / "config.yaml", {"robustness": {"label_noise": {"rates": [0.4, 0.401]}}})
