"""Dense and convolutional autoencoders.

Every autoencoder exposes ``encode(x) -> z`` and ``decode(z) -> output`` on flattened rows
``(batch, n_features)``; image shapes are handled inside. Decoders return *pre-activation*
outputs (logits for Bernoulli/BCE data), so losses can use the numerically stable
``binary_cross_entropy_with_logits``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["ConvAutoencoder", "DenseAutoencoder", "mlp"]


def mlp(sizes: Sequence[int], *, final_activation: bool = False) -> nn.Sequential:
    """Stack of ``Linear`` layers with ReLU between them.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first, e.g. ``(784, 500, 500, 2000, 10)``.
    final_activation : bool, default=False
        Put a ReLU after the last layer too.

    Returns
    -------
    torch.nn.Sequential
    """
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2 or final_activation:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class DenseAutoencoder(nn.Module):
    """Fully connected autoencoder ``d-h1-...-latent`` with a mirror decoder.

    ReLU between layers, none on the latent or the output layer (DEC/VaDE architecture).

    Parameters
    ----------
    n_features : int
        Input dimension ``d``.
    hidden_dims : sequence of int, default=(500, 500, 2000)
        Encoder widths; the decoder uses them reversed.
    latent_dim : int, default=10
        Size of the code.
    """

    def __init__(
        self, n_features: int, hidden_dims: Sequence[int] = (500, 500, 2000), latent_dim: int = 10
    ):
        super().__init__()
        sizes = [int(n_features), *map(int, hidden_dims), int(latent_dim)]
        self.latent_dim = int(latent_dim)
        self.encoder = mlp(sizes)
        self.decoder = mlp(sizes[::-1])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, n_features)`` to ``(batch, latent_dim)``."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map ``(batch, latent_dim)`` to pre-activation ``(batch, n_features)``."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class ConvAutoencoder(nn.Module):
    """Convolutional autoencoder for images of any size and channel count.

    Each encoder block halves the spatial size, either by ``Conv2d(stride=1)`` +
    ``BatchNorm2d`` + ReLU + ``MaxPool2d(2, ceil_mode=True)`` (``downsample="pool"``,
    Das, paper 000) or by a stride-2 ``Conv2d`` + ReLU (``downsample="stride"``, the
    convolutional AE of the AE+GMM paper). The decoder mirrors it with stride-2
    ``ConvTranspose2d`` layers whose output sizes are pinned to the encoder's sizes, so odd
    image sizes reconstruct to exactly the input size.

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, height, width)``.
    channels : sequence of int, default=(32, 64, 128)
        Output channels of the encoder blocks.
    latent_dim : int or None, default=None
        With an int, a fully connected layer maps the flattened last feature map to a
        ``latent_dim`` code (and back in the decoder). With None the code is the flattened
        feature map itself.
    kernel_size : int, default=3
        Odd kernel size of the encoder convolutions.
    batch_norm : bool, default=True
        Use ``BatchNorm2d`` after hidden convolutions (encoder and decoder).
    downsample : {"pool", "stride"}, default="pool"
        How encoder blocks halve the spatial size.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        channels: Sequence[int] = (32, 64, 128),
        latent_dim: int | None = None,
        *,
        kernel_size: int = 3,
        batch_norm: bool = True,
        downsample: str = "pool",
    ):
        super().__init__()
        c_in, h, w = (int(s) for s in input_shape)
        self.input_shape = (c_in, h, w)
        pad = kernel_size // 2
        sizes = [(h, w)]
        encoder: list[nn.Module] = []
        prev = c_in
        for c in channels:
            stride = 2 if downsample == "stride" else 1
            encoder.append(nn.Conv2d(prev, c, kernel_size, stride=stride, padding=pad))
            if batch_norm:
                encoder.append(nn.BatchNorm2d(c))
            encoder.append(nn.ReLU())
            if downsample == "pool":
                encoder.append(nn.MaxPool2d(2, ceil_mode=True))
            h, w = -(-h // 2), -(-w // 2)
            sizes.append((h, w))
            prev = c
        self.encoder = nn.Sequential(*encoder)
        self._sizes = sizes
        self.feature_shape = (prev, h, w)
        n_flat = prev * h * w
        if latent_dim is None:
            self.to_latent: nn.Module = nn.Identity()
            self.from_latent: nn.Module = nn.Identity()
            self.latent_dim = n_flat
        else:
            self.to_latent = nn.Linear(n_flat, int(latent_dim))
            self.from_latent = nn.Sequential(nn.Linear(int(latent_dim), n_flat), nn.ReLU())
            self.latent_dim = int(latent_dim)
        outs = [*channels[-2::-1], c_in]
        self.deconvs = nn.ModuleList()
        self.deconv_post = nn.ModuleList()
        for i, c_out in enumerate(outs):
            self.deconvs.append(nn.ConvTranspose2d(prev, c_out, 3, stride=2, padding=1))
            last = i == len(outs) - 1
            post: list[nn.Module] = []
            if not last:
                if batch_norm:
                    post.append(nn.BatchNorm2d(c_out))
                post.append(nn.ReLU())
            self.deconv_post.append(nn.Sequential(*post))
            prev = c_out

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Map flattened images ``(batch, C*H*W)`` to codes ``(batch, latent_dim)``."""
        feats = self.encoder(x.view(-1, *self.input_shape))
        return self.to_latent(feats.flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map codes to pre-activation flattened images ``(batch, C*H*W)``."""
        h = self.from_latent(z).view(-1, *self.feature_shape)
        targets = self._sizes[-2::-1]
        for deconv, post, size in zip(self.deconvs, self.deconv_post, targets, strict=True):
            h = post(deconv(h, output_size=list(size)))
        return h.flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))
