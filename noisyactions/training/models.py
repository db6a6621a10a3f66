"""R3D-18 and R(2+1)D-18 (Tran et al. 2018) with a width multiplier.

The layout is torchvision's (models.video.resnet) block for block, so at width 1 the parameter
counts are torchvision's (33,371,472 and 31,505,325; tested); smaller widths scale every channel
count so the embedded default trains on a CPU in seconds.

`residual` makes the model see frame differences (video.residual.residual_clip) instead of frames,
the input PCL pretrains on; it is part of the architecture, saved with every checkpoint, so a model
fine-tuned from such weights sees the same input they were learnt on.
"""

from __future__ import annotations

import torch
from torch import nn

from noisyactions.training.model_names import MODEL_NAMES
from noisyactions.video.residual import residual_clip


def _conv3d(inplanes: int, planes: int, midplanes: int | None, stride: int, kind: str) -> nn.Sequential | nn.Conv3d:
    if kind == "r3d":
        return nn.Conv3d(inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
    # (2+1)D: a spatial 1x3x3 then a temporal 3x1x1 convolution, with torchvision's mid width.
    return nn.Sequential(
        nn.Conv3d(inplanes, midplanes, kernel_size=(1, 3, 3), stride=(1, stride, stride), padding=(0, 1, 1), bias=False),
        nn.BatchNorm3d(midplanes),
        nn.ReLU(inplace=True),
        nn.Conv3d(midplanes, planes, kernel_size=(3, 1, 1), stride=(stride, 1, 1), padding=(1, 0, 0), bias=False),
    )


class BasicBlock(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int, kind: str):
        super().__init__()
        # torchvision sizes both (2+1)D convolutions of a block from its input width (keeps its counts)
        mid = (inplanes * planes * 27) // (inplanes * 9 + 3 * planes)
        self.conv1 = nn.Sequential(_conv3d(inplanes, planes, mid, stride, kind), nn.BatchNorm3d(planes), nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(_conv3d(planes, planes, mid, 1, kind), nn.BatchNorm3d(planes))
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv3d(inplanes, planes, kernel_size=1, stride=stride, bias=False), nn.BatchNorm3d(planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(self.conv2(self.conv1(x)) + residual)


class VideoResNet18(nn.Module):
    """`kind`: "r3d" or "r2plus1d"; `width`: multiplier on every channel count (1 = the paper's);
    `residual`: frame differences in, not frames."""

    def __init__(self, kind: str, num_classes: int, width: float = 1.0, residual: bool = False):
        super().__init__()
        if kind not in MODEL_NAMES:
            raise ValueError(f"model {kind!r}: expected one of {', '.join(MODEL_NAMES)}")
        self.architecture = {"kind": kind, "width": width, "residual": residual}
        planes = [max(1, round(c * width)) for c in (64, 128, 256, 512)]
        if kind == "r3d":
            self.stem = nn.Sequential(
                nn.Conv3d(3, planes[0], kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
                nn.BatchNorm3d(planes[0]), nn.ReLU(inplace=True),
            )
        else:
            mid = max(1, round(45 * width))
            self.stem = nn.Sequential(
                nn.Conv3d(3, mid, kernel_size=(1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
                nn.BatchNorm3d(mid), nn.ReLU(inplace=True),
                nn.Conv3d(mid, planes[0], kernel_size=(3, 1, 1), stride=(1, 1, 1), padding=(1, 0, 0), bias=False),
                nn.BatchNorm3d(planes[0]), nn.ReLU(inplace=True),
            )
        layers, inplanes = [], planes[0]
        for index, width_planes in enumerate(planes):
            stride = 1 if index == 0 else 2
            layers.append(nn.Sequential(BasicBlock(inplanes, width_planes, stride, kind), BasicBlock(width_planes, width_planes, 1, kind)))
            inplanes = width_planes
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(planes[3], num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv3d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm3d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.constant_(module.bias, 0)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if self.architecture["residual"]:
            x = residual_clip(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.avgpool(x).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
