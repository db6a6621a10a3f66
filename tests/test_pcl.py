"""Pretext-Contrastive Learning: each pretext transform, the tuple and remote-clip sampling, the residual
clip, the memory-bank update, the NCE logits and loss, and the total loss against values built by hand;
and a learning test: the contrastive term alone makes a tiny backbone's features retrieve the motion
class of held-out clips (two classes: a square moving left or right) far above chance."""

from __future__ import annotations

import math
import unittest.mock

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from noisyactions.training.contrastive import MemoryBank, ProjectionHead, draw_negatives, momentum_update_, nce_logits, nce_loss
from noisyactions.training.models import VideoResNet18
from noisyactions.training.pcl import PCLLoss, PCLModel, PCLOutput, pcl_total
from noisyactions.training.pretext import (
    NONE, PRETEXT_TASKS, REMOTE_CLIP, ROTATION, SPATIAL_ORDERS, SPATIAL_PERMUTATION, TEMPORAL_SHUFFLE, PretextDraw, apply_pretext, draw_pretext,
    remote_window, rotate, spatial_permutation, temporal_shuffle, tuple_indices,
)
from noisyactions.training.trainer import CheckpointError, load_backbone
from noisyactions.video.residual import residual_clip


def _frame_clip(frame: list[list[float]], channels: int = 2, frames: int = 3) -> torch.Tensor:
    """(C, T, H, W) whose every frame of channel c is `frame` + 100 c + 10 t (so a transform that mixes
    channels or frames shows)."""
    base = torch.tensor(frame, dtype=torch.float32)
    return torch.stack([torch.stack([base + 100 * c + 10 * t for t in range(frames)]) for c in range(channels)])


# ---- pretext transforms -------------------------------------------------------------------------

@pytest.mark.parametrize("turns, expected", [
    (1, [[2, 4], [1, 3]]),   # 90 degrees counter-clockwise
    (2, [[4, 3], [2, 1]]),
    (3, [[3, 1], [4, 2]]),
])
def test_rotation_of_a_2x2_frame(turns, expected):
    out = rotate(_frame_clip([[1, 2], [3, 4]]), turns)
    assert torch.equal(out, _frame_clip(expected))


def test_rotation_of_a_3x3_frame_and_of_a_batch():
    frame = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    assert torch.equal(rotate(_frame_clip(frame), 1), _frame_clip([[3, 6, 9], [2, 5, 8], [1, 4, 7]]))
    assert torch.equal(rotate(_frame_clip(frame), 3), _frame_clip([[7, 4, 1], [8, 5, 2], [9, 6, 3]]))
    batch = torch.stack([_frame_clip(frame), _frame_clip(frame) * 2])  # (B, C, T, H, W)
    assert torch.equal(rotate(batch, 2)[1], 2 * _frame_clip([[9, 8, 7], [6, 5, 4], [3, 2, 1]]))
    with pytest.raises(ValueError, match="square"):
        rotate(torch.zeros(3, 4, 2, 4), 1)


FRAME_4X4 = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]  # quadrants TL 0 1 4 5, TR 2 3 6 7, BL 8 9 12 13, BR 10 11 14 15


@pytest.mark.parametrize("order, expected", [
    ((3, 2, 1, 0), [[10, 11, 8, 9], [14, 15, 12, 13], [2, 3, 0, 1], [6, 7, 4, 5]]),   # the authors' fixed order
    ((1, 3, 0, 2), [[2, 3, 10, 11], [6, 7, 14, 15], [0, 1, 8, 9], [4, 5, 12, 13]]),
    ((0, 1, 3, 2), [[0, 1, 2, 3], [4, 5, 6, 7], [10, 11, 8, 9], [14, 15, 12, 13]]),
])
def test_spatial_permutation_moves_whole_quadrants(order, expected):
    assert torch.equal(spatial_permutation(_frame_clip(FRAME_4X4), order), _frame_clip(expected))


def test_spatial_permutation_rejects_odd_sides_and_non_permutations():
    with pytest.raises(ValueError, match="even"):
        spatial_permutation(torch.zeros(3, 2, 3, 3), (1, 0, 2, 3))
    with pytest.raises(ValueError, match="permutation"):
        spatial_permutation(torch.zeros(3, 2, 4, 4), (0, 0, 1, 2))


def _time_clip(frames: int) -> torch.Tensor:
    """(C=2, T, 2, 2): frame t holds t (channel 0) and 100 + t (channel 1)."""
    values = torch.arange(frames, dtype=torch.float32).view(1, frames, 1, 1)
    return torch.cat([values, values + 100]).expand(2, frames, 2, 2).clone()


@pytest.mark.parametrize("order, frames_out", [
    ((2, 1, 0, 3), [4, 5, 2, 3, 0, 1, 6, 7]),
    ((0, 3, 2, 1), [0, 1, 6, 7, 4, 5, 2, 3]),
    ((1, 0, 2, 3), [2, 3, 0, 1, 4, 5, 6, 7]),
    ((1, 2, 3, 0), [2, 3, 4, 5, 6, 7, 0, 1]),  # not its own inverse: chunk order[k] goes k-th
])
def test_temporal_shuffle_with_a_given_order(order, frames_out):
    out = temporal_shuffle(_time_clip(8), order)
    assert out[0, :, 0, 0].tolist() == frames_out
    assert out[1, :, 1, 1].tolist() == [100 + f for f in frames_out]


def test_temporal_shuffle_of_16_frames_keeps_chunks_of_4():
    out = temporal_shuffle(_time_clip(16), (3, 1, 2, 0))
    assert out[0, :, 0, 0].tolist() == [12, 13, 14, 15, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3]


def _video(frames: int) -> torch.Tensor:
    """(C=1, T, 4, 4): frame t is filled with t, so a clip's values name the frames it was read from."""
    return torch.arange(frames, dtype=torch.float32).view(1, frames, 1, 1).expand(1, frames, 4, 4).clone()


def test_remote_clip_replaces_the_middle_clip_with_the_frames_of_the_far_window():
    video = _video(120)
    clips = np.array([np.arange(16) + 30, np.arange(16) + 54, np.arange(16) + 78])
    draw = PretextDraw(REMOTE_CLIP, clips, 1, remote=np.arange(2, 18))
    out, label = apply_pretext([video[:, indices] for indices in draw.windows], draw)
    assert label == REMOTE_CLIP == 4 and out.shape == (3, 1, 16, 4, 4)
    assert out[0, 0, :, 0, 0].tolist() == list(range(30, 46))
    assert out[1, 0, :, 2, 3].tolist() == list(range(2, 18))  # the remote window, not frames 54..69
    assert out[2, 0, :, 0, 0].tolist() == list(range(78, 94))


def test_apply_pretext_transforms_only_the_middle_clip():
    clips = [_frame_clip(FRAME_4X4) + k for k in range(3)]
    tuple_clip, label = apply_pretext(clips, PretextDraw(ROTATION, np.zeros((3, 3), int), 1, quarter_turns=1))
    assert label == ROTATION
    assert torch.equal(tuple_clip[0], clips[0]) and torch.equal(tuple_clip[2], clips[2])
    assert torch.equal(tuple_clip[1], torch.rot90(clips[1], 1, dims=(-2, -1)))
    unchanged, label = apply_pretext(clips, PretextDraw(NONE, np.zeros((3, 3), int), 1))
    assert label == NONE and torch.equal(unchanged, torch.stack(clips))
    with pytest.raises(ValueError, match="remote clip"):
        apply_pretext(clips, PretextDraw(REMOTE_CLIP, np.zeros((3, 3), int), 1, remote=None))


# ---- tuple and remote-window sampling -----------------------------------------------------------

def test_tuple_indices_spacing_and_bounds():
    rng = np.random.default_rng(0)
    starts = set()
    for _ in range(400):
        indices, skip = tuple_indices(200, rng, length=16, gap=8)
        assert skip == 1 and indices.shape == (3, 16)
        start = int(indices[0, 0])
        expected = start + np.array([np.arange(16), 24 + np.arange(16), 48 + np.arange(16)])  # clips 16 frames, 8 apart
        assert np.array_equal(indices, expected)
        assert 0 <= start <= 200 - 64
        starts.add(start)
    assert {0, 136} <= starts  # both extremes are reachable


def test_tuple_indices_with_skips_lower_the_skip_until_the_tuple_fits():
    rng = np.random.default_rng(1)
    skips = set()
    for _ in range(200):
        indices, skip = tuple_indices(150, rng, length=16, gap=8, max_skip=4)
        assert skip <= 149 // 63  # (64 - 1) x skip + 1 frames must fit in 150: skip 2 at most
        assert np.array_equal(np.diff(indices, axis=1), np.full((3, 15), skip))
        assert np.array_equal(indices[:, 0] - indices[0, 0], np.array([0, 24, 48]) * skip)
        assert indices.max() < 150
        skips.add(skip)
    assert skips == {1, 2}


def test_short_videos_are_padded_with_their_last_frame():
    indices, skip = tuple_indices(40, np.random.default_rng(0), length=16, gap=8, max_skip=3)
    assert skip == 1
    assert indices[0].tolist() == list(range(16))
    assert indices[1].tolist() == list(range(24, 40))
    assert indices[2].tolist() == [39] * 16
    one, _ = tuple_indices(1, np.random.default_rng(0), length=4, gap=2)
    assert one.tolist() == [[0] * 4] * 3
    with pytest.raises(ValueError):
        tuple_indices(0, np.random.default_rng(0))


def test_remote_window_keeps_its_distance_on_either_side():
    rng = np.random.default_rng(0)
    starts = [int(remote_window(100, 30, 63, 8, 1, 16, rng)[0]) for _ in range(3000)]
    # before: its last frame start + 7 at least 16 frames before frame 30, i.e. start <= 6; after: start >= 63 + 16 + 1 = 80, <= 92
    assert set(starts) == set(range(0, 7)) | set(range(80, 93))
    window = remote_window(100, 30, 63, 8, 2, 16, np.random.default_rng(3))
    assert np.array_equal(np.diff(window), np.full(7, 2))  # the tuple's skip
    assert remote_window(100, 23, 63, 8, 1, 16, rng) is None or int(remote_window(100, 23, 63, 8, 1, 16, rng)[0]) >= 80  # 23 - 16 - 8 < 0: after only
    assert remote_window(90, 23, 70, 8, 1, 16, rng) is None  # no room on either side


def test_draw_pretext_tasks_and_parameters():
    rng = np.random.default_rng(0)
    counts = np.zeros(len(PRETEXT_TASKS), int)
    for _ in range(2000):
        draw = draw_pretext(300, rng, length=16, gap=8)
        counts[draw.task] += 1
        if draw.task == ROTATION:
            assert draw.quarter_turns in (1, 2, 3)
        if draw.task == SPATIAL_PERMUTATION:
            assert draw.spatial_order in SPATIAL_ORDERS and draw.spatial_order != (0, 1, 2, 3)
        if draw.task == TEMPORAL_SHUFFLE:  # one pair of chunks swapped
            assert sum(k != v for k, v in enumerate(draw.temporal_order)) == 2
        if draw.task == REMOTE_CLIP:
            assert draw.remote is not None and len(draw.windows) == 4
            gap_before, gap_after = draw.clips.min() - draw.remote.max() - 1, draw.remote.min() - draw.clips.max() - 1
            assert max(gap_before, gap_after) >= 16
        else:
            assert draw.remote is None and len(draw.windows) == 3
    assert counts.min() > 300  # about 400 each: uniform over the five
    # a video with no room for a remote clip: the other four, uniformly
    short = np.bincount([draw_pretext(64, rng).task for _ in range(2000)], minlength=5)
    assert short[REMOTE_CLIP] == 0 and short[:REMOTE_CLIP].min() > 420
    # everything from the generator: the same seed, the same draw
    a, b = draw_pretext(300, np.random.default_rng([7, 1, 5])), draw_pretext(300, np.random.default_rng([7, 1, 5]))
    assert a.task == b.task and np.array_equal(a.clips, b.clips) and a.quarter_turns == b.quarter_turns


# ---- residual clip ------------------------------------------------------------------------------

def test_residual_clip_by_hand():
    clip = torch.tensor([1.0, 4.0, 9.0]).view(1, 3, 1, 1)  # (C, T, H, W)
    assert residual_clip(clip).flatten().tolist() == [9 - 1, 1 - 4, 4 - 9]  # frame 0 wraps around, as the authors' diff
    batch = torch.stack([clip, 2 * clip])  # (B, C, T, H, W): time is still dim -3
    assert residual_clip(batch)[1].flatten().tolist() == [16.0, -6.0, -10.0]


# ---- memory bank and NCE ------------------------------------------------------------------------

def test_momentum_update_by_hand():
    memory = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    momentum_update_(memory, torch.tensor([2, 0]), torch.tensor([[0.0, 1.0], [0.0, 1.0]]), 0.75)
    # row 2: 0.75 (0.6, 0.8) + 0.25 (0, 1) = (0.45, 0.85), / sqrt(0.925); row 0: (0.75, 0.25) / sqrt(0.625); row 1 untouched
    expected = torch.tensor([[0.75 / math.sqrt(0.625), 0.25 / math.sqrt(0.625)], [0.0, 1.0], [0.45 / math.sqrt(0.925), 0.85 / math.sqrt(0.925)]])
    assert torch.allclose(memory, expected, atol=1e-6)


def test_nce_logits_and_loss_by_hand():
    memory = torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [-1.0, 0.0]])
    anchor = torch.tensor([[0.8, 0.6], [0.0, 1.0]])
    logits = nce_logits(anchor, memory, torch.tensor([1, 3]), torch.tensor([[0, 2, 3], [2, 2, 0]]), 0.1)
    # row 0: positive memory[1] . (0.8, 0.6) = 0.96, negatives rows 0, 2, 3: 0.8, 0.6, -0.8; all / 0.1
    # row 1: positive memory[3] . (0, 1) = 0, negatives rows 2, 2, 0: 1, 1, 0
    expected = [[9.6, 8.0, 6.0, -8.0], [0.0, 10.0, 10.0, 0.0]]
    assert torch.allclose(logits, torch.tensor(expected), atol=1e-5)
    by_hand = [-(row[0] - math.log(sum(math.exp(v) for v in row))) for row in expected]
    assert nce_loss(logits).item() == pytest.approx(sum(by_hand) / 2, rel=1e-6)


def test_memory_bank_scores_before_updating_and_pairs_each_view_with_the_other_bank():
    bank = MemoryBank(videos=3, dim=2, negatives=2, temperature=0.5, momentum=0.5)
    bank.view1.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]))
    bank.view2.copy_(torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.8, 0.6]]))
    z1, z2 = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    logits1, logits2 = bank(z1, z2, torch.tensor([2]), negatives=torch.tensor([[0, 1]]))
    # view 1 against bank 2 (rows 2, 0, 1): 0.8, 0, 1; view 2 against bank 1: 0.8, 0, 1; / 0.5
    assert torch.allclose(logits1, torch.tensor([[1.6, 0.0, 2.0]])) and torch.allclose(logits2, torch.tensor([[1.6, 0.0, 2.0]]))
    # then row 2 of each bank moved halfway to its own view and renormalised
    assert torch.allclose(bank.view1[2], F.normalize(torch.tensor([0.8, 0.4]), dim=0))
    assert torch.allclose(bank.view2[2], F.normalize(torch.tensor([0.4, 0.8]), dim=0))
    assert torch.equal(bank.view1[:2], torch.tensor([[1.0, 0.0], [0.0, 1.0]]))


def test_negatives_are_other_videos_and_resume_with_the_bank_state():
    negatives = draw_negatives(torch.tensor([0, 3, 4]), 5, 2000, torch.Generator().manual_seed(0))
    for row, own in zip(negatives, (0, 3, 4)):
        assert own not in row.tolist() and set(row.tolist()) == set(range(5)) - {own}
    bank = MemoryBank(videos=50, dim=8, negatives=16, seed=3)
    index = torch.arange(4)
    bank.sample_negatives(index)
    resumed = MemoryBank(videos=50, dim=8, negatives=16, seed=3)
    resumed.load_state_dict(bank.state_dict())  # as from a checkpoint taken after one step
    assert torch.equal(bank.sample_negatives(index), resumed.sample_negatives(index))
    assert not torch.equal(bank.sample_negatives(index), MemoryBank(videos=50, dim=8, negatives=16, seed=3).sample_negatives(index))
    with pytest.raises(ValueError, match="2 videos"):
        draw_negatives(torch.tensor([0]), 1, 4, torch.Generator())


def test_projection_head_is_l2_normalised():
    head = ProjectionHead(16, 16, 8)
    out = head(torch.randn(5, 16))
    assert out.shape == (5, 8) and torch.allclose(out.norm(dim=1), torch.ones(5))


# ---- model and total loss -----------------------------------------------------------------------

def test_total_loss_is_pretext_ce_plus_half_the_two_contrastive_terms():
    assert pcl_total(torch.tensor(1.2), torch.tensor(0.4), torch.tensor(0.6)).item() == pytest.approx(1.2 + 0.5 * (0.4 + 0.6))
    torch.manual_seed(0)
    criterion, twin = PCLLoss(10, 4, negatives=3, temperature=0.2, seed=5), MemoryBank(10, 4, 3, 0.2, 0.5, seed=5)
    output = PCLOutput(torch.randn(2, 5), F.normalize(torch.randn(2, 4), dim=1), F.normalize(torch.randn(2, 4), dim=1))
    labels, index = torch.tensor([4, 1]), torch.tensor([7, 2])
    total = criterion(output, labels, index)
    logits1, logits2 = twin(output.z1, output.z2, index)  # the same bank, the same negatives
    pretext = -(torch.log_softmax(output.pretext_logits, 1)[[0, 1], [4, 1]]).mean()
    assert total.item() == pytest.approx(pretext.item() + 0.5 * (nce_loss(logits1).item() + nce_loss(logits2).item()), rel=1e-6)
    assert criterion.parts["pretext"].item() == pytest.approx(pretext.item(), rel=1e-6)
    assert torch.equal(criterion.bank.view1, twin.view1)  # and the bank was updated once


@pytest.mark.parametrize("kind", ["r3d", "r2plus1d"])
def test_pcl_model_shapes_gradients_and_backbone_names(tmp_path, kind):
    torch.manual_seed(0)
    model = PCLModel(kind, width=1 / 8, projection_dim=16, residual=True)
    tuples = torch.randn(4, 3, 3, 8, 16, 16)
    output = model(tuples)
    assert output.pretext_logits.shape == (4, 5) and output.z1.shape == output.z2.shape == (4, 16)
    assert model.fc.in_features == 3 * model.feature_dim
    loss = PCLLoss(4, 16, negatives=2)(output, torch.tensor([0, 1, 2, 3]), torch.arange(4))
    loss.backward()
    for name in ("stem.0.weight", "layer4.1.conv2.1.weight", "fc.weight", "head.mlp.0.weight"):
        assert model.get_parameter(name).grad.abs().sum() > 0, name
    model.eval()
    with torch.no_grad():  # per clip in eval mode: views are clips 1 and 3, the pretext head sees all three; residual inputs
        features = [model.features(tuples[:, k]) for k in range(3)]
        output = model(tuples)
        model.architecture["residual"] = False  # the same backbone on frames differenced by hand
        assert torch.allclose(model.features(residual_clip(tuples[:, 0])), features[0], atol=1e-6)
        model.architecture["residual"] = True
        assert torch.allclose(output.z1, model.head(features[0]), atol=1e-6) and torch.allclose(output.z2, model.head(features[2]), atol=1e-6)
        assert torch.allclose(output.pretext_logits, model.fc(torch.cat(features, dim=1)), atol=1e-6)
    # a PCL checkpoint fine-tunes through the trainer's load_backbone: every backbone tensor loads, into a
    # model that takes residual clips as the checkpoint's architecture says
    torch.save({"model": model.state_dict(), "architecture": model.architecture}, tmp_path / "pcl.pt")
    classifier = VideoResNet18(kind, 7, width=1 / 8, residual=True)
    assert load_backbone(classifier, tmp_path / "pcl.pt") == len([k for k in classifier.state_dict() if not k.startswith("fc.")])
    assert all(torch.equal(classifier.state_dict()[k], v) for k, v in model.state_dict().items() if k.startswith(("stem.", "layer")))
    with pytest.raises(CheckpointError, match="trained on residual clips, but the model takes frames"):
        load_backbone(VideoResNet18(kind, 7, width=1 / 8), tmp_path / "pcl.pt")
    with pytest.raises(ValueError, match="tuples of 3"):
        model(torch.randn(2, 2, 3, 8, 16, 16))


# ---- the contrastive term learns ----------------------------------------------------------------

SIDE, FRAMES = 16, 8


def moving_square(direction: int, rng: np.random.Generator) -> torch.Tensor:
    """(3, 8, 16, 16): a square moving `direction` (-1 left, +1 right) and wrapping around, with its own
    random colour, background, size, speed (1 or 2 px per frame), position and noise: two clips of one
    video share only the direction of motion."""
    size, speed = int(rng.integers(3, 6)), int(rng.integers(1, 3))
    colour, background = torch.from_numpy(rng.uniform(0.3, 1.0, 3)).float(), float(rng.uniform(-0.3, 0.1))
    x, y = int(rng.integers(SIDE)), int(rng.integers(SIDE - size + 1))
    square = torch.zeros(SIDE, SIDE)
    square[:size, :size] = 1
    mask = torch.stack([torch.roll(square, (y, x + direction * speed * t), (0, 1)) for t in range(FRAMES)])
    clip = background + mask[None] * (colour.view(3, 1, 1, 1) - background)
    return clip + 0.05 * torch.from_numpy(rng.standard_normal(clip.shape)).float()


def _retrieval_top1(model: PCLModel, directions: list[int], rng: np.random.Generator) -> float:
    """Leave-one-out nearest neighbour (cosine) over backbone features of one clip per held-out video:
    the fraction whose neighbour moves the same way."""
    model.eval()
    with torch.no_grad():
        features = F.normalize(model.features(torch.stack([moving_square(d, rng) for d in directions])), dim=1)
    model.train()
    similarity = features @ features.T
    similarity.fill_diagonal_(-2.0)
    labels = torch.tensor(directions)
    return (labels[similarity.argmax(1)] == labels).float().mean().item()


def learn_motion(corrupt=None, steps: int = 150, seed: int = 0) -> tuple[float, float, float]:
    """(retrieval top-1 before, after, last loss) of `steps` steps of the contrastive term alone
    (pretext weight 0) on 64 videos, 32 moving each way: each step a batch of 32 videos, two fresh
    clips each (views 1 and 2; tuples of 2, since the contrastive term reads only the first and last clip),
    memory-bank NCE against 32 other videos, temperature 0.2. Residual clips, as the authors train; SGD as
    the trainer's (lr 0.01, 20-step warm-up). At this size training first sits on a plateau at chance
    loss, log(33), and leaves it after 40 to 120 steps (22 of 22 seeds reached >= 0.995); with lr 0.03
    and 100 steps 2 to 4 seeds in 30 were still on it at the end, with temperature 0.07 about 1 in 4.
    `corrupt(output) -> output` breaks the model's output for the failure checks."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        videos, batch = 64, 32
        directions = [-1] * (videos // 2) + [1] * (videos // 2)
        held_out = [-1, 1] * 100
        model = PCLModel("r3d", width=1 / 8, tuple_len=2, projection_dim=32, residual=True)
        criterion = PCLLoss(videos, 32, negatives=32, temperature=0.2, memory_momentum=0.5, pretext_weight=0.0, seed=seed)
        before = _retrieval_top1(model, held_out, np.random.default_rng(seed + 1))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
        warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 20))
        for _ in range(steps):
            index = torch.from_numpy(rng.permutation(videos)[:batch])
            tuples = torch.stack([torch.stack([moving_square(directions[i], rng) for _ in range(2)]) for i in index.tolist()])
            output = model(tuples)
            if corrupt is not None:
                output = corrupt(output)
            loss = criterion(output, torch.zeros(batch, dtype=torch.long), index)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            warmup.step()
        return before, _retrieval_top1(model, held_out, np.random.default_rng(seed + 1)), loss.item()
    finally:
        torch.set_num_threads(threads)


def learnt(before: float, after: float, loss: float) -> bool:
    """The learning test's criterion: held-out retrieval far above chance (0.5) and above the untrained
    backbone's (0.5 to 0.66 over seeds), and a contrastive loss below chance level, log(1 + 32).
    Correct runs reach 0.995 to 1; training with shuffled positives reached up to 0.805, so 0.95."""
    return after >= 0.95 and after - before >= 0.2 and loss < math.log(33) - 0.4


def test_contrastive_term_learns_motion_features():
    before, after, loss = learn_motion()
    assert learnt(before, after, loss), f"nearest-neighbour top-1 {after:.3f} after training (chance 0.5, untrained {before:.3f}); last loss {loss:.3f}"


def test_the_learning_test_fails_when_positives_are_not_the_other_view():
    """The same run with each video's view 2 swapped for another video's: nothing ties the views, and
    the criterion must fail (a learning test that a broken pairing passes would prove nothing)."""
    generator = torch.Generator().manual_seed(0)
    before, after, loss = learn_motion(lambda output: output._replace(z2=output.z2[torch.randperm(len(output.z2), generator=generator)]))
    assert not learnt(before, after, loss), (before, after, loss)


# ---- memory bank under DistributedDataParallel --------------------------------------------------

def _update_on_rank(rank: int, init_file: str, out_dir: str) -> None:
    torch.distributed.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    bank = MemoryBank(videos=4, dim=2, negatives=2, momentum=0.5)
    bank.view1.copy_(torch.tensor([[1.0, 0.0]] * 4))
    bank.view2.copy_(torch.tensor([[0.0, 1.0]] * 4))
    # rank 0 updates video 0; rank 1 videos 2 and 3 (a batch can lose samples that failed to load)
    z, index = (torch.tensor([[0.0, 1.0]]), torch.tensor([0])) if rank == 0 else (torch.tensor([[1.0, 0.0], [1.0, 0.0]]), torch.tensor([2, 3]))
    bank.update(z, z, index)
    torch.save(bank.state_dict(), f"{out_dir}/bank{rank}.pt")
    negatives = MemoryBank(videos=1000, dim=2, negatives=64).sample_negatives(torch.tensor([5]))
    from noisyactions.training import trainer

    # rank 1's batch lost every sample: both processes skip the step together
    with unittest.mock.patch.object(trainer, "distributed", return_value=True):
        together = [trainer._every_process_has_clips(has, torch.device("cpu")) for has in ([True, True] if rank == 0 else [True, False])]
    torch.save({"negatives": negatives, "together": together}, f"{out_dir}/step{rank}.pt")
    torch.distributed.destroy_process_group()


def test_memory_bank_gathers_every_process_update(tmp_path):
    """Two gloo processes updating different videos, one row on one and two on the other: both banks end
    equal, holding every update."""
    torch.multiprocessing.spawn(_update_on_rank, args=(str(tmp_path / "init"), str(tmp_path)), nprocs=2)
    banks = [torch.load(tmp_path / f"bank{rank}.pt") for rank in range(2)]
    assert torch.equal(banks[0]["view1"], banks[1]["view1"]) and torch.equal(banks[0]["view2"], banks[1]["view2"])
    half = 1 / math.sqrt(2)
    assert torch.allclose(banks[0]["view1"], torch.tensor([[half, half], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]))
    assert torch.allclose(banks[0]["view2"], torch.tensor([[0.0, 1.0], [0.0, 1.0], [half, half], [half, half]]))
    steps = [torch.load(tmp_path / f"step{rank}.pt") for rank in range(2)]
    assert not torch.equal(steps[0]["negatives"], steps[1]["negatives"]), "each process draws its own negatives"
    assert steps[0]["together"] == steps[1]["together"] == [True, False], "a step no process can take is skipped by all"
