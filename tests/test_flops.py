"""FLOP counts and MFU: checked against torchvision's published model costs and the README's H200 figures."""

from __future__ import annotations

import pytest
import torch

from noisyactions.training.flops import forward_flops, model_flops_utilisation, peak_tflops, training_flops_per_clip
from noisyactions.training.models import VideoResNet18

CLIP = (3, 16, 112, 112)


@pytest.mark.parametrize("kind, published_gmacs", [("r3d", 40.70), ("r2plus1d", 40.52)])
def test_forward_flops_match_torchvision_s_published_cost(kind, published_gmacs):
    """torchvision lists r3d_18 at 40.70 and r2plus1d_18 at 40.52 GFLOPS for 16x112x112, counting a
    multiply-add once; the flop counter counts it twice, as GPU peaks do."""
    flops = forward_flops(VideoResNet18(kind, 400, 1.0), (1, *CLIP))
    assert flops / 2e9 == pytest.approx(published_gmacs, rel=0.005)


def test_counting_leaves_the_model_untouched_and_scales_with_the_batch():
    model = VideoResNet18("r3d", 10, 0.125)
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    one, four = forward_flops(model, (1, *CLIP)), forward_flops(model, (4, *CLIP))
    assert four == 4 * one and training_flops_per_clip(model, CLIP) == 3 * one
    assert model.training and all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())
    assert next(model.parameters()).device.type == "cpu"


def test_peaks_are_found_by_device_name_most_specific_first():
    assert peak_tflops("NVIDIA H200", mixed_precision=True) == 989.4
    assert peak_tflops("NVIDIA H100 PCIe", mixed_precision=True) == 756.0
    assert peak_tflops("NVIDIA H100 80GB HBM3", mixed_precision=False) == 494.7
    assert peak_tflops("NVIDIA A100-SXM4-80GB", mixed_precision=True) == 312.0
    assert peak_tflops("Some Future GPU", mixed_precision=True) is None


def test_the_readme_s_h200_step_rates_are_a_third_and_a_sixth_of_peak():
    """1,335 / 673 clips/s with AMP on an H200: the 33% / 17% the roadmap starts from."""
    peak = peak_tflops("NVIDIA H200", mixed_precision=True)
    r3d = model_flops_utilisation(1335, training_flops_per_clip(VideoResNet18("r3d", 400, 1.0), CLIP), peak)
    r2plus1d = model_flops_utilisation(673, training_flops_per_clip(VideoResNet18("r2plus1d", 400, 1.0), CLIP), peak)
    assert r3d == pytest.approx(0.33, abs=0.005) and r2plus1d == pytest.approx(0.165, abs=0.005)
