"""TransNAS-Bench-101 task decoders and the task networks (encoder + decoder).

Per task (official configs of the TransNAS-Bench-101 release):

- class_object / class_scene: global average pool + linear (75 / 47 classes officially;
  NASLib's port uses 100 / 63, see ``NASLIB_CLASSES``), soft-label cross-entropy;
- room_layout: the same head with 9 outputs, mean squared error;
- jigsaw: the encoder runs on each of 9 tiles (3x64x64); pooled features are concatenated
  into a linear layer over 1000 permutation classes, cross-entropy;
- segmentsemantic: a conv/deconv decoder to 17 x 256 x 256 logits, pixel cross-entropy;
- autoencoder / normal: a 14-layer conv/deconv generator to 3 x 256 x 256 (tanh), L1 loss
  (the official training adds an adversarial term with a discriminator; it is no part of a
  proxy's loss and the discriminator is not built).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from nasproxy_bench.adapters.transnas.network import TransNASEncoder
from nasproxy_bench.networks import EncoderDecoder

IMAGE_SIZE = 256
TILE_SIZE = 64
JIGSAW_TILES = 9
JIGSAW_CLASSES = 1000
SEGMENT_CLASSES = 17
ROOM_LAYOUT_OUTPUTS = 9
OFFICIAL_CLASSES = {"class_object": 75, "class_scene": 47}
NASLIB_CLASSES = {"class_object": 100, "class_scene": 63}


def conv_layer(c_in: int, c_out: int, act: nn.Module | None, norm: bool = True) -> nn.Sequential:
    """conv3x3 (with bias) -> BatchNorm -> activation, as the official decoders' ConvLayer."""
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1)]
    if norm:
        layers.append(nn.BatchNorm2d(c_out))
    if act is not None:
        layers.append(act)
    return nn.Sequential(*layers)


def deconv_layer(c_in: int, c_out: int) -> nn.Sequential:
    """Transposed conv3x3 stride 2 (doubles the resolution) -> BatchNorm -> LeakyReLU(0.2)."""
    return nn.Sequential(
        nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1),
        nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2),
    )


def upsamplings(feature_size: int, target_size: int = IMAGE_SIZE) -> int:
    count = int(math.log2(target_size / feature_size))
    if count not in (2, 3, 4, 5, 6):
        raise ValueError(f"a {feature_size}x{feature_size} feature map cannot be decoded to {target_size} (needs 2-6 upsamplings)")
    return count


class PooledLinear(nn.Sequential):
    def __init__(self, c_in: int, outputs: int) -> None:
        super().__init__(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, outputs))


def segmentation_decoder(c_in: int, feature_size: int, classes: int = SEGMENT_CLASSES) -> nn.Sequential:
    """conv to 1024, (6 - u) halving convs, (u - 1) halving deconvs, one deconv, conv to ``classes``."""
    u = upsamplings(feature_size)
    leaky = lambda: nn.LeakyReLU(0.2)  # noqa: E731
    layers = [conv_layer(c_in, 1024, leaky())]
    width = 1024
    for _ in range(6 - u):
        layers.append(conv_layer(width, width // 2, leaky()))
        width //= 2
    for _ in range(u - 1):
        layers.append(deconv_layer(width, width // 2))
        width //= 2
    layers.append(deconv_layer(width, width))
    layers.append(conv_layer(width, classes, None, norm=False))
    return nn.Sequential(*layers)


def generative_decoder(c_in: int, feature_size: int, channels: int = 3) -> nn.Sequential:
    """The official 14-layer generator; layers 3, 5, 7, 9 upsample only when 6, 5, 4, 3 upsamplings are needed."""
    u = upsamplings(feature_size)
    leaky = lambda: nn.LeakyReLU(0.2)  # noqa: E731

    def maybe_up(c_i: int, c_o: int, needed: int) -> nn.Module:
        return deconv_layer(c_i, c_o) if u >= needed else conv_layer(c_i, c_o, leaky())

    return nn.Sequential(
        conv_layer(c_in, 1024, leaky()), conv_layer(1024, 1024, leaky()),
        deconv_layer(1024, 512) if u == 6 else conv_layer(1024, 512, leaky()),
        conv_layer(512, 512, leaky()), maybe_up(512, 256, 5),
        conv_layer(256, 128, leaky()), maybe_up(128, 64, 4),
        conv_layer(64, 64, leaky()), maybe_up(64, 32, 3),
        conv_layer(32, 32, leaky()), deconv_layer(32, 16),
        conv_layer(16, 32, leaky()), deconv_layer(32, 16),
        conv_layer(16, channels, nn.Tanh(), norm=False),
    )


class JigsawNetwork(EncoderDecoder):
    """Input (batch, 9, 3, 64, 64): one shared encoder per tile, features concatenated on channels."""

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5 or x.shape[1] != JIGSAW_TILES:
            raise ValueError(f"jigsaw input must be (batch, {JIGSAW_TILES}, 3, H, W), got {tuple(x.shape)}")
        return torch.cat([self.encoder(x[:, i]) for i in range(JIGSAW_TILES)], dim=1)

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Stage maps of the centre tile (GenNAS heads see one tile per example)."""
        return self.encoder.stage_outputs(x[:, JIGSAW_TILES // 2])


def task_network(encoder: TransNASEncoder, task: str, classes: dict[str, int] | None = None) -> EncoderDecoder:
    """The encoder with ``task``'s decoder; ``classes`` overrides the classification head sizes."""
    classes = {**OFFICIAL_CLASSES, **(classes or {})}
    c = encoder.out_channels
    if task in OFFICIAL_CLASSES:
        return EncoderDecoder(encoder, PooledLinear(c, classes[task]))
    if task == "room_layout":
        return EncoderDecoder(encoder, PooledLinear(c, ROOM_LAYOUT_OUTPUTS))
    if task == "jigsaw":
        return JigsawNetwork(encoder, PooledLinear(c * JIGSAW_TILES, JIGSAW_CLASSES))
    size = encoder.output_size(IMAGE_SIZE)
    if task == "segmentsemantic":
        return EncoderDecoder(encoder, segmentation_decoder(c, size))
    if task in ("autoencoder", "normal"):
        return EncoderDecoder(encoder, generative_decoder(c, size))
    raise ValueError(f"unknown TransNAS-Bench-101 task {task!r}")


def discriminator_params() -> int:
    """Parameters of the official pix2pix discriminator (autoencoder/normal), which NASLib's counts include.

    Seven 3x3/5x5 convs with bias (spectral norm adds no parameters): 6->64->128->256 (5x5),
    256->256->512->512->1 (3x3).
    """
    layers = [(6, 64, 5), (64, 128, 5), (128, 256, 5), (256, 256, 3), (256, 512, 3), (512, 512, 3), (512, 1, 3)]
    return sum(c_in * c_out * k * k + c_out for c_in, c_out, k in layers)
