"""Built-in encoders and decoders, and the autoencoder that composes them with a latent head.

Conventions shared by every network of the package:

- an *encoder* maps a batch ``(n, *input_shape)`` (images) or ``(n, d)`` (rows) to features
  ``(n, h)``; the estimator adds the latent head(s) on top (``Linear(h, latent_dim)``);
- a *decoder* maps codes ``(n, latent_dim)`` to ``(n, d)`` or ``(n, *input_shape)``, returning
  *pre-activation* outputs (logits for Bernoulli data), so the losses can use the numerically
  stable ``binary_cross_entropy_with_logits``;
- :class:`Autoencoder` takes and returns flattened rows ``(n, d)`` and reshapes internally.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn

__all__ = [
    "Autoencoder",
    "ConvDecoder",
    "ConvEncoder",
    "conv_output_sizes",
    "dense_decoder",
    "dense_encoder",
    "mlp",
]


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
        The stacked layers.
    """
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2 or final_activation:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def dense_encoder(n_features: int, hidden_dims: Sequence[int]) -> nn.Module:
    """The dense trunk ``d-h1-...-hk`` with a ReLU after every layer (DEC/VaDE encoder).

    Parameters
    ----------
    n_features : int
        Input width ``d``.
    hidden_dims : sequence of int
        Layer widths; empty gives the identity (features are the raw rows).

    Returns
    -------
    torch.nn.Module
        Maps ``(n, d)`` to ``(n, hk)``.
    """
    hidden = [int(h) for h in hidden_dims]
    if not hidden:
        return nn.Identity()
    return mlp([int(n_features), *hidden], final_activation=True)


def dense_decoder(code_dim: int, hidden_dims: Sequence[int], n_features: int) -> nn.Sequential:
    """The mirror decoder ``J-hk-...-h1-d`` (ReLU between layers, none on the output).

    Parameters
    ----------
    code_dim : int
        Width of the codes it decodes.
    hidden_dims : sequence of int
        Encoder widths, used reversed.
    n_features : int
        Output width ``d``.

    Returns
    -------
    torch.nn.Sequential
        Maps ``(n, code_dim)`` to pre-activation ``(n, d)``.
    """
    return mlp([int(code_dim), *[int(h) for h in hidden_dims][::-1], int(n_features)])


def conv_output_sizes(height: int, width: int, n_blocks: int) -> list[tuple[int, int]]:
    """Spatial sizes after each of ``n_blocks`` halving blocks (ceil), input size first."""
    sizes = [(int(height), int(width))]
    for _ in range(n_blocks):
        h, w = sizes[-1]
        sizes.append((-(-h // 2), -(-w // 2)))
    return sizes


def _leaves_bfloat16(x: torch.Tensor, stride: tuple[int, ...], narrow_width: int) -> bool:
    """Whether a strided convolution of ``x`` must leave a CPU bfloat16 autocast region.

    oneDNN's bfloat16 convolutions on CPUs with AMX return non-deterministic gradients, NaN
    or 1e35 at times, when the low-resolution side of a stride-2 convolution is one pixel
    wide: a ``Conv2d`` whose output, or a ``ConvTranspose2d`` whose input, has width 1
    (measured on an Intel Xeon with AMX, torch 2.13, maps up to 6x6, with or without
    channels_last; wider maps and stride 1 were exact). Such maps are tiny, so computing
    them in float32 costs nothing.
    """
    return (
        narrow_width == 1
        and stride[-1] > 1
        and x.device.type == "cpu"
        and torch.is_autocast_enabled("cpu")
    )


class _Conv2d(nn.Conv2d):
    """``nn.Conv2d`` that leaves bfloat16 for outputs one pixel wide (see above)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad, k, s, d = self.padding[-1], self.kernel_size[-1], self.stride[-1], self.dilation[-1]
        out_width = (x.shape[-1] + 2 * int(pad) - d * (k - 1) - 1) // s + 1
        if _leaves_bfloat16(x, self.stride, out_width):
            with torch.autocast("cpu", enabled=False):
                return super().forward(x.float())
        return super().forward(x)


class _ConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` that leaves bfloat16 for inputs one pixel wide (see above)."""

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        if _leaves_bfloat16(x, self.stride, x.shape[-1]):
            with torch.autocast("cpu", enabled=False):
                return super().forward(x.float(), output_size)
        return super().forward(x, output_size)


class ConvEncoder(nn.Module):
    """Convolutional trunk whose blocks halve the image; returns the flattened last map.

    Each block is either a stride-2 ``Conv2d`` + ReLU (``downsample="stride"``, the
    convolutional AE of the AE+GMM paper) or ``Conv2d`` + ``BatchNorm2d`` + ReLU +
    ``MaxPool2d(2, ceil_mode=True)`` (``downsample="pool"``, Das' network).

    Parameters
    ----------
    in_channels : int
        Channels of the input images.
    channels : sequence of int
        Output channels of the blocks.
    kernel_size : int, default=5
        Odd kernel size.
    batch_norm : bool, default=False
        ``BatchNorm2d`` after each convolution.
    downsample : {"stride", "pool"}, default="stride"
        How a block halves the spatial size.
    """

    def __init__(
        self,
        in_channels: int,
        channels: Sequence[int],
        *,
        kernel_size: int = 5,
        batch_norm: bool = False,
        downsample: str = "stride",
    ):
        super().__init__()
        layers: list[nn.Module] = []
        prev = int(in_channels)
        for c in channels:
            stride = 2 if downsample == "stride" else 1
            layers.append(
                _Conv2d(prev, int(c), kernel_size, stride=stride, padding=kernel_size // 2)
            )
            if batch_norm:
                layers.append(nn.BatchNorm2d(int(c)))
            layers.append(nn.ReLU())
            if downsample == "pool":
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
            prev = int(c)
        self.blocks = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map images to the flattened last feature map.

        Parameters
        ----------
        x : torch.Tensor of shape (n, C, H, W)
            The images.

        Returns
        -------
        torch.Tensor of shape (n, C' * H' * W')
            The last block's feature maps, flattened.
        """
        return self.blocks(x).flatten(1)


class ConvDecoder(nn.Module):
    """Mirror of :class:`ConvEncoder`: a dense layer, then transposed convolutions.

    A dense layer maps the codes to the encoder's last feature map; stride-2
    ``ConvTranspose2d`` layers follow, their output sizes pinned to the encoder's, so odd
    image sizes reconstruct to exactly the input size.

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, height, width)`` of the images to produce.
    channels : sequence of int
        The encoder's block channels (the decoder runs them in reverse).
    code_dim : int or None
        Width of the codes. None means the codes *are* the flattened last feature map (no
        dense layer).
    batch_norm : bool, default=False
        ``BatchNorm2d`` after the hidden transposed convolutions.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        channels: Sequence[int],
        code_dim: int | None,
        *,
        batch_norm: bool = False,
    ):
        super().__init__()
        c_in, h, w = (int(s) for s in input_shape)
        chans = [int(c) for c in channels]
        self._sizes = conv_output_sizes(h, w, len(chans))
        fh, fw = self._sizes[-1]
        self.feature_shape = (chans[-1], fh, fw)
        n_flat = chans[-1] * fh * fw
        if code_dim is None:
            self.from_latent: nn.Module = nn.Identity()
        else:
            self.from_latent = nn.Sequential(nn.Linear(int(code_dim), n_flat), nn.ReLU())
        outs = [*chans[-2::-1], c_in]
        self.deconvs = nn.ModuleList()
        self.post = nn.ModuleList()
        prev = chans[-1]
        for i, c_out in enumerate(outs):
            self.deconvs.append(_ConvTranspose2d(prev, c_out, 3, stride=2, padding=1))
            post: list[nn.Module] = []
            if i < len(outs) - 1:
                if batch_norm:
                    post.append(nn.BatchNorm2d(c_out))
                post.append(nn.ReLU())
            self.post.append(nn.Sequential(*post))
            prev = c_out

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Map codes to pre-activation images.

        Parameters
        ----------
        z : torch.Tensor of shape (n, code_dim)
            The codes (the flattened last feature map when ``code_dim`` was None).

        Returns
        -------
        torch.Tensor of shape (n, C, H, W)
            Logits (Bernoulli) or means (Gaussian) of the images, before any sigmoid.
        """
        h = self.from_latent(z).view(-1, *self.feature_shape)
        for deconv, post, size in zip(self.deconvs, self.post, self._sizes[-2::-1], strict=True):
            h = post(deconv(h, output_size=list(size)))
        return h


class Autoencoder(nn.Module):
    """An encoder, a latent head and a decoder, on flattened rows.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps ``(n, *input_shape)`` (or ``(n, d)`` when ``input_shape`` is None) to
        ``(n, h)``.
    head : torch.nn.Module
        Maps features ``(n, h)`` to codes ``(n, latent_dim)`` (``nn.Identity`` when the
        features are the codes).
    decoder : torch.nn.Module
        Maps codes to ``(n, d)`` or ``(n, *input_shape)``.
    latent_dim : int
        Width of the codes.
    input_shape : tuple of int or None, default=None
        Shape each row is viewed as before the encoder.
    """

    def __init__(
        self,
        encoder: nn.Module,
        head: nn.Module,
        decoder: nn.Module,
        latent_dim: int,
        input_shape: Sequence[int] | None = None,
    ):
        super().__init__()
        self.encoder = encoder
        self.head = head
        self.decoder = decoder
        self.latent_dim = int(latent_dim)
        self.input_shape = None if input_shape is None else tuple(int(s) for s in input_shape)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Compute the encoder's features of flattened rows.

        Parameters
        ----------
        x : torch.Tensor of shape (n, d)
            Flattened rows, viewed as ``(n, *input_shape)`` when ``input_shape`` is set.

        Returns
        -------
        torch.Tensor of shape (n, h)
            The encoder's output (in the autocast dtype under the training engine's autocast).
        """
        if self.input_shape is not None:
            x = x.view(-1, *self.input_shape)
        return self.encoder(x)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Map flattened rows to codes.

        Parameters
        ----------
        x : torch.Tensor of shape (n, d)
            Flattened rows.

        Returns
        -------
        torch.Tensor of shape (n, latent_dim)
            The codes, float32.
        """
        return self.head(self.features(x)).float()

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map codes to pre-activation flattened rows.

        Parameters
        ----------
        z : torch.Tensor of shape (n, latent_dim)
            Codes.

        Returns
        -------
        torch.Tensor of shape (n, d)
            Logits (Bernoulli) or means (Gaussian) of the rows, float32, before any sigmoid.
        """
        return self.decoder(z).float().flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct flattened rows through the code.

        Parameters
        ----------
        x : torch.Tensor of shape (n, d)
            Flattened rows.

        Returns
        -------
        torch.Tensor of shape (n, d)
            ``decode(encode(x))``: pre-activation reconstructions, float32.
        """
        return self.decode(self.encode(x))

    def autoencoder_parameters(self) -> list[nn.Parameter]:
        """List the parameters that reconstruction pretraining trains.

        Returns
        -------
        list of torch.nn.Parameter
            The parameters of the encoder, the head and the decoder.
        """
        return [*self.encoder.parameters(), *self.head.parameters(), *self.decoder.parameters()]
