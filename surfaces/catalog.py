"""The named surfaces: classic 2D test functions, each chosen for one lesson.

Every `fn` is elementwise jax.numpy (works on scalars and on broadcast grids) and stays accurate
in float32. Minimum values are in `extra["min_value"]` so metrics can report the gap to the optimum.
Start points were picked by running SGD, momentum and Adam for a few hundred steps from them.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp

from surfaces._base import Surface, SurfaceParam

Params = Mapping[str, jax.Array]


def _rosenbrock(x: jax.Array, y: jax.Array, params: Params) -> jax.Array:
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


def _saddle(x: jax.Array, y: jax.Array, params: Params) -> jax.Array:
    return x**2 - y**2


def _monkey_saddle(x: jax.Array, y: jax.Array, params: Params) -> jax.Array:
    return x**3 - 3.0 * x * y**2


def _noisy_bowl(x: jax.Array, y: jax.Array, params: Params) -> jax.Array:
    return 0.5 * (x**2 + y**2)


def _ravine(x: jax.Array, y: jax.Array, params: Params) -> jax.Array:
    # A quadratic with curvature 1 along the valley and `condition` across it, the valley axis
    # turned by `angle` degrees from the x axis.
    theta = jnp.deg2rad(params["angle"])
    cos, sin = jnp.cos(theta), jnp.sin(theta)
    along = cos * x + sin * y
    across = -sin * x + cos * y
    return 0.5 * (along**2 + params["condition"] * across**2)


def _beale(x: jax.Array, y: jax.Array, params: Params) -> jax.Array:
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _himmelblau(x: jax.Array, y: jax.Array, params: Params) -> jax.Array:
    return (x**2 + y - 11.0) ** 2 + (x + y**2 - 7.0) ** 2


def _rastrigin(x: jax.Array, y: jax.Array, params: Params) -> jax.Array:
    two_pi = 2.0 * jnp.pi
    return 20.0 + x**2 - 10.0 * jnp.cos(two_pi * x) + y**2 - 10.0 * jnp.cos(two_pi * y)


def _ackley(x: jax.Array, y: jax.Array, params: Params) -> jax.Array:
    # sqrt has an infinite derivative at 0, which would make the gradient NaN at the minimum.
    # The double `where` keeps the function exact and gives the gradient 0 there (a subgradient).
    r2 = 0.5 * (x**2 + y**2)
    positive = r2 > 0.0
    radius = jnp.where(positive, jnp.sqrt(jnp.where(positive, r2, 1.0)), 0.0)
    two_pi = 2.0 * jnp.pi
    return (
        -20.0 * jnp.exp(-0.2 * radius)
        - jnp.exp(0.5 * (jnp.cos(two_pi * x) + jnp.cos(two_pi * y)))
        + jnp.e
        + 20.0
    )


def _booth(x: jax.Array, y: jax.Array, params: Params) -> jax.Array:
    return (x + 2.0 * y - 7.0) ** 2 + (2.0 * x + y - 5.0) ** 2


def _goldstein_price(x: jax.Array, y: jax.Array, params: Params) -> jax.Array:
    first = 1.0 + (x + y + 1.0) ** 2 * (19.0 - 14.0 * x + 3.0 * x**2 - 14.0 * y + 6.0 * x * y + 3.0 * y**2)
    second = 30.0 + (2.0 * x - 3.0 * y) ** 2 * (
        18.0 - 32.0 * x + 12.0 * x**2 + 48.0 * y - 36.0 * x * y + 27.0 * y**2
    )
    return first * second


def _six_hump_camel(x: jax.Array, y: jax.Array, params: Params) -> jax.Array:
    return (4.0 - 2.1 * x**2 + x**4 / 3.0) * x**2 + x * y + (-4.0 + 4.0 * y**2) * y**2


_HIMMELBLAU_MINIMA = (
    (3.0, 2.0),
    (-2.805118, 3.131312),
    (-3.779310, -3.283186),
    (3.584428, -1.848126),
)

_SIX_HUMP_MINIMA = ((0.0898420, -0.7126564), (-0.0898420, 0.7126564))

_RAVINE_PARAMS = (
    SurfaceParam(
        name="condition",
        label="Condition number κ",
        default=50.0,
        low=1.0,
        high=1000.0,
        log=True,
        help="Curvature across the valley divided by curvature along it.",
    ),
    SurfaceParam(
        name="angle",
        label="Rotation (degrees)",
        default=0.0,
        low=-90.0,
        high=90.0,
        help="Angle of the valley from the x axis. Adam rescales per axis, so it helps at 0°, "
        "much less at 45°.",
    ),
)


SURFACES: dict[str, Surface] = {
    "rosenbrock": Surface(
        key="rosenbrock",
        label="Rosenbrock",
        fn=_rosenbrock,
        latex=r"f(x,y) = (1 - x)^2 + 100\,(y - x^2)^2",
        domain=((-2.0, 2.0), (-1.0, 3.0)),
        minima=((1.0, 1.0),),
        start=(-1.2, 1.0),
        description="A long, curved, nearly flat valley: easy to reach, slow to follow; "
        "momentum and Adam outpace plain SGD.",
        log_colors=True,
        extra={"min_value": 0.0},
    ),
    "saddle": Surface(
        key="saddle",
        label="Saddle",
        fn=_saddle,
        latex=r"f(x,y) = x^2 - y^2",
        domain=((-2.0, 2.0), (-2.0, 2.0)),
        minima=(),
        start=(-1.8, 0.01),
        description="A saddle point: the gradient vanishes but it is no minimum; near the ridge "
        "plain gradient descent stalls, noise and momentum escape faster.",
        extra={"min_value": None},
    ),
    "monkey_saddle": Surface(
        key="monkey_saddle",
        label="Monkey saddle",
        fn=_monkey_saddle,
        latex=r"f(x,y) = x^3 - 3\,x\,y^2",
        domain=((-1.5, 1.5), (-1.5, 1.5)),
        minima=(),
        start=(1.2, 0.05),
        description="A flat, degenerate saddle with three downhill valleys: the gradient fades "
        "like r², so progress crawls before it falls off one side.",
        extra={"min_value": None},
    ),
    "noisy_bowl": Surface(
        key="noisy_bowl",
        label="Noisy bowl",
        fn=_noisy_bowl,
        latex=r"f(x,y) = \tfrac{1}{2}\,(x^2 + y^2)",
        domain=((-3.0, 3.0), (-3.0, 3.0)),
        minima=((0.0, 0.0),),
        start=(-2.5, 2.0),
        description="The easiest bowl seen through noisy gradients: a fixed step jitters around "
        "the minimum; a decaying step or averaging settles it.",
        default_noise=0.5,
        extra={"min_value": 0.0},
    ),
    "ravine": Surface(
        key="ravine",
        label="Ravine",
        fn=_ravine,
        latex=r"f = \tfrac{1}{2}\,(u^2 + \kappa\,v^2),\quad "
        r"\begin{pmatrix}u\\v\end{pmatrix} = R(-\theta)\begin{pmatrix}x\\y\end{pmatrix}",
        domain=((-3.0, 3.0), (-3.0, 3.0)),
        minima=((0.0, 0.0),),
        start=(-2.5, 1.0),
        description="An ill-conditioned valley: the steep walls cap the step size, the flat floor "
        "sets the pace; SGD zigzags, momentum and Adam glide.",
        params=_RAVINE_PARAMS,
        extra={"min_value": 0.0},
    ),
    "beale": Surface(
        key="beale",
        label="Beale",
        fn=_beale,
        latex=r"f(x,y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        domain=((-4.5, 4.5), (-4.5, 4.5)),
        minima=((3.0, 0.5),),
        start=(0.5, 1.5),
        description="Steep walls around a long flat basin: gradient sizes differ by orders of "
        "magnitude, so no single SGD step size fits.",
        log_colors=True,
        extra={"min_value": 0.0},
    ),
    "himmelblau": Surface(
        key="himmelblau",
        label="Himmelblau",
        fn=_himmelblau,
        latex=r"f(x,y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        domain=((-5.0, 5.0), (-5.0, 5.0)),
        minima=_HIMMELBLAU_MINIMA,
        start=(-0.3, -0.9),
        description="Four equally good minima around a central peak: the optimizer and the "
        "start decide which basin wins.",
        log_colors=True,
        extra={"min_value": 0.0},
    ),
    "rastrigin": Surface(
        key="rastrigin",
        label="Rastrigin",
        fn=_rastrigin,
        latex=r"f(x,y) = 20 + x^2 - 10\cos(2\pi x) + y^2 - 10\cos(2\pi y)",
        domain=((-5.12, 5.12), (-5.12, 5.12)),
        minima=((0.0, 0.0),),
        start=(-4.3, 4.3),
        description="A bowl covered in regular bumps: small steps get trapped in local minima, "
        "momentum and large steps can hop across.",
        extra={"min_value": 0.0},
    ),
    "ackley": Surface(
        key="ackley",
        label="Ackley",
        fn=_ackley,
        latex=r"f(x,y) = -20\,e^{-0.2\sqrt{(x^2+y^2)/2}} - e^{(\cos 2\pi x + \cos 2\pi y)/2}"
        r" + e + 20",
        domain=((-5.0, 5.0), (-5.0, 5.0)),
        minima=((0.0, 0.0),),
        start=(-4.5, 4.5),
        description="A rippled plateau around one deep funnel: far out the gradient is small "
        "and every ripple is a local minimum.",
        extra={"min_value": 0.0},
    ),
    "booth": Surface(
        key="booth",
        label="Booth",
        fn=_booth,
        latex=r"f(x,y) = (x + 2y - 7)^2 + (2x + y - 5)^2",
        domain=((-10.0, 10.0), (-10.0, 10.0)),
        minima=((1.0, 3.0),),
        start=(-8.0, -8.0),
        description="A plain quadratic with coupled variables: the gradient does not point at "
        "the minimum, so the paths curve.",
        extra={"min_value": 0.0},
    ),
    "goldstein_price": Surface(
        key="goldstein_price",
        label="Goldstein–Price",
        fn=_goldstein_price,
        latex=r"f = \left[1 + (x+y+1)^2(19 - 14x + 3x^2 - 14y + 6xy + 3y^2)\right]"
        r"\left[30 + (2x-3y)^2(18 - 32x + 12x^2 + 48y - 36xy + 27y^2)\right]",
        domain=((-2.0, 2.0), (-2.0, 2.0)),
        minima=((0.0, -1.0),),
        start=(-1.5, -1.5),
        description="Values from 3 to about a million and several local minima: raw gradient "
        "size wrecks SGD, Adam's normalised steps cope.",
        log_colors=True,
        extra={"min_value": 3.0},
    ),
    "six_hump_camel": Surface(
        key="six_hump_camel",
        label="Six-hump camel",
        fn=_six_hump_camel,
        latex=r"f(x,y) = \left(4 - 2.1x^2 + \tfrac{x^4}{3}\right)x^2 + xy + (-4 + 4y^2)\,y^2",
        domain=((-2.0, 2.0), (-1.2, 1.2)),
        minima=_SIX_HUMP_MINIMA,
        start=(-1.0, -1.0),
        description="Two global and four local minima: small changes of start or step size "
        "change which valley you end in.",
        extra={"min_value": -1.0316285},
    ),
}
