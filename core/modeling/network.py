"""The PyTorch network behind every ModelPulse-trained model.

A plain tabular MLP: one embedding per categorical column, concatenated with the standardised
numbers, then dense blocks. Version 2 of the demo models uses the optional residual blocks and
batch normalisation, so comparing versions compares two genuinely different networks.
"""

from __future__ import annotations

import torch
from torch import nn

from core.schema import ArchConfig


def embedding_dim(cardinality: int) -> int:
    """A common rule of thumb: grow with the number of categories, capped at 16."""
    return int(min(16, max(2, round(1.6 * cardinality**0.56))))


class _Block(nn.Module):
    def __init__(self, d_in: int, d_out: int, *, dropout: float, batch_norm: bool, residual: bool) -> None:
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)
        self.norm = nn.BatchNorm1d(d_out) if batch_norm else nn.Identity()
        self.act = nn.ReLU()
        self.drop = nn.Dropout(dropout)
        self.residual = residual and d_in == d_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.drop(self.act(self.norm(self.linear(x))))
        return x + out if self.residual else out


class TabularNet(nn.Module):
    """Embeddings + MLP; outputs one logit (binary), K logits (multiclass) or one value (regression)."""

    def __init__(
        self,
        *,
        n_numeric: int,
        cardinalities: list[int],
        hidden: tuple[int, ...],
        out_dim: int,
        dropout: float = 0.1,
        batch_norm: bool = False,
        residual: bool = False,
        wide: bool = False,
    ) -> None:
        super().__init__()
        self.embeddings = nn.ModuleList(nn.Embedding(c, embedding_dim(c)) for c in cardinalities)
        width = n_numeric + sum(embedding_dim(c) for c in cardinalities)
        blocks = []
        for h in hidden:
            blocks.append(_Block(width, h, dropout=dropout, batch_norm=batch_norm, residual=residual))
            width = h
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(width, out_dim)
        # wide & deep: a linear path straight from the inputs keeps simple trends (price follows last
        # year's price) from being squeezed through the hidden layers
        self.wide = nn.Linear(n_numeric + sum(embedding_dim(c) for c in cardinalities), out_dim) if wide else None

    @classmethod
    def for_arch(cls, arch: ArchConfig, *, n_numeric: int, cardinalities: list[int], out_dim: int) -> TabularNet:
        """The network an :class:`ArchConfig` describes, for inputs of the given widths."""
        return cls(
            n_numeric=n_numeric,
            cardinalities=cardinalities,
            hidden=arch.hidden,
            out_dim=out_dim,
            dropout=arch.dropout,
            batch_norm=arch.batch_norm,
            residual=arch.residual,
            wide=arch.wide,
        )

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        parts = [x_num] + [emb(x_cat[:, i]) for i, emb in enumerate(self.embeddings)]
        x = torch.cat(parts, dim=1)
        out = self.head(self.body(x))
        return out + self.wide(x) if self.wide is not None else out
