"""Named 2D loss surfaces and the safe formula parser for custom ones."""

from __future__ import annotations

from surfaces._base import Surface, SurfaceParam
from surfaces.catalog import SURFACES
from surfaces.expression import ExpressionError, from_expression

_CUSTOM_PREFIX = "custom:"


def get_surface(name_or_surface: str | Surface) -> Surface:
    """A Surface given itself, a registry name, or a "custom:<formula>" key.

    A custom key is rebuilt with `from_expression` on its default domain (a key does not carry
    the domain). An unknown name raises ValueError listing the valid names.
    """
    if isinstance(name_or_surface, Surface):
        return name_or_surface
    if not isinstance(name_or_surface, str):
        raise TypeError(f"expected a Surface or a surface name, got {type(name_or_surface).__name__}")
    surface = SURFACES.get(name_or_surface)
    if surface is not None:
        return surface
    if name_or_surface.startswith(_CUSTOM_PREFIX):
        return from_expression(name_or_surface[len(_CUSTOM_PREFIX) :])
    raise ValueError(
        f"unknown surface {name_or_surface!r}; valid names: {', '.join(SURFACES)} "
        f"(or '{_CUSTOM_PREFIX}<formula>')"
    )


__all__ = [
    "SURFACES",
    "ExpressionError",
    "Surface",
    "SurfaceParam",
    "from_expression",
    "get_surface",
]
