"""The optimizer registry: every rule of `optim_core.rules` with its hyperparameter specs
(symbol, default, slider range, valid range, help), its equations in LaTeX and a reference.

`OPTIMIZERS[name]` is an `OptimizerSpec`; its `optimizer` is the pure init/update pair. The
LaTeX mirrors the rule's code line by line; the defaults are optax's, except the learning rates,
which optax leaves to the caller: ours are picked for the 2D playground, each one moves visibly
on Rosenbrock from (−1.5, 2) within 500 steps without blowing up.
"""

from __future__ import annotations

from optim_core._base import HyperParam, Optimizer, OptimizerSpec
from optim_core.optimizers_modern import MODERN_SPECS
from optim_core.rules import (
    adabelief,
    adadelta,
    adagrad,
    adam,
    adamax,
    amsgrad,
    lion,
    momentum,
    nadam,
    radam,
    rmsprop,
    sgd,
)

__all__ = ["OPTIMIZERS"]

# --- Hyperparameter specs ---------------------------------------------------------------------

# (0, 100]: a closed valid interval needs a positive floor to exclude 0.
_LR_VALID = (1e-12, 100.0)
_UNIT = (0.0, 0.9999)  # decay rates: 1 would freeze the average


def _lr(default: float, low: float = 1e-5, high: float = 10.0, note: str = "") -> HyperParam:
    help_text = "learning rate: global step size (the value in force at this step)"
    return HyperParam(
        "learning_rate",
        r"\alpha",
        default,
        low,
        high,
        log=True,
        help=help_text + (f"; {note}" if note else ""),
        valid=_LR_VALID,
    )


def _eps(default: float, help_text: str, low: float = 1e-12) -> HyperParam:
    return HyperParam("eps", r"\epsilon", default, low, 1e-1, log=True, help=help_text, valid=(0.0, 1.0))


def _eps_root(default: float = 0.0, help_text: str = "") -> HyperParam:
    return HyperParam(
        "eps_root",
        r"\bar\epsilon",
        default,
        0.0,
        1e-6,
        help=help_text or "added to v̂ inside the square root (needed to differentiate through)",
        valid=(0.0, 1.0),
    )


def _b1(default: float = 0.9, help_text: str = "decay of the gradient average m (momentum)") -> HyperParam:
    return HyperParam("b1", r"\beta_1", default, 0.0, 0.999, help=help_text, valid=_UNIT)


def _b2(default: float = 0.999, help_text: str = "decay of the squared-gradient average v") -> HyperParam:
    return HyperParam("b2", r"\beta_2", default, 0.5, 0.9999, help=help_text, valid=_UNIT)


def _flag(name: str, symbol: str, default: float, help_text: str) -> HyperParam:
    return HyperParam(name, symbol, default, 0.0, 1.0, help=help_text, kind="bool")


def _weight_decay(default: float, help_text: str) -> HyperParam:
    return HyperParam("weight_decay", r"\lambda", default, 0.0, 0.1, help=help_text, valid=(0.0, 10.0))


def _momentum_mu(default: float, help_text: str) -> HyperParam:
    return HyperParam("momentum", r"\mu", default, 0.0, 0.999, help=help_text, valid=_UNIT)


_ADAM_EPS = _eps(1e-8, "added to √v̂ so the step stays finite where v̂ ≈ 0")
_EPS_INSIDE = _flag(
    "eps_inside",
    r"\epsilon_{\text{in}}",
    1.0,
    "ε inside the root √(v+ε) (optax, Keras) or outside √v+ε (PyTorch)",
)
_DECOUPLED_DECAY_HELP = "decoupled weight decay: pulls θ toward 0 at rate α·λ"
_EPS_HAT = _flag(
    "eps_hat",
    r"\hat\epsilon",
    0.0,
    "Keras form: ε added to the uncorrected √v, corrections folded into α",
)


def _spec(
    name: str,
    label: str,
    optimizer: Optimizer,
    hyperparams: tuple[HyperParam, ...],
    latex: str,
    description: str,
    reference: str,
) -> OptimizerSpec:
    return OptimizerSpec(
        name=name,
        label=label,
        hyperparams=hyperparams,
        latex=latex.strip(),
        optimizer=optimizer,
        description=description,
        reference=reference,
    )


_ADAM_HPARAMS = (
    _lr(0.02, note="0.02 moves Rosenbrock visibly; 1e-3 is the usual network default"),
    _b1(),
    _b2(),
    _ADAM_EPS,
    _eps_root(),
    _flag(
        "bias_correction",
        r"\text{bc}",
        1.0,
        "divide m, v by 1−β^t so early steps are not too small",
    ),
    _EPS_HAT,
)

# The corrections c_{k,t} and the ε-hat step, shared by the Adam family's equations.
_CORRECTIONS = r"""c_{k,t} &= \begin{cases} 1-\beta_k^t & \text{if } \text{bc} \\
  1 & \text{otherwise} \end{cases} \quad (k = 1, 2) \\
\hat m_t &= m_t / c_{1,t}, \quad \hat v_t = v_t / c_{2,t} \\"""
_ADAM_DIRECTION = r"""\begin{cases} \hat m_t / (\sqrt{\hat v_t + \bar\epsilon} + \epsilon)
  & \text{if not } \hat\epsilon \\
  \frac{\sqrt{c_{2,t}}}{c_{1,t}}\, m_t / (\sqrt{v_t + \bar\epsilon} + \epsilon)
  & \text{if } \hat\epsilon \end{cases}"""

_ADAM_LATEX = rf"""
\begin{{aligned}}
m_t &= \beta_1 m_{{t-1}} + (1-\beta_1)\, g_t \\
v_t &= \beta_2 v_{{t-1}} + (1-\beta_2)\, g_t^2 \\
{_CORRECTIONS}
\theta_t &= \theta_{{t-1}} - \alpha\, {_ADAM_DIRECTION}
\end{{aligned}}
"""

_ADAMW_LATEX = rf"""
\begin{{aligned}}
m_t &= \beta_1 m_{{t-1}} + (1-\beta_1)\, g_t \\
v_t &= \beta_2 v_{{t-1}} + (1-\beta_2)\, g_t^2 \\
{_CORRECTIONS}
d_t &= {_ADAM_DIRECTION} \\
\theta_t &= \theta_{{t-1}} - \alpha\, (d_t + \lambda\, \theta_{{t-1}})
\end{{aligned}}
"""


OPTIMIZERS: dict[str, OptimizerSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "sgd",
            "SGD",
            sgd(),
            (_lr(1e-3, note="stable while α·curvature < 2; Rosenbrock's walls reach ~2000"),),
            r"""
\begin{aligned}
\theta_t &= \theta_{t-1} - \alpha\, g_t
\end{aligned}""",
            "Plain gradient descent: one step size for every direction, so ravines zig-zag.",
            "Robbins & Monro, A Stochastic Approximation Method, 1951",
        ),
        _spec(
            "momentum",
            "Momentum (heavy ball)",
            momentum(nesterov=False),
            (
                _lr(1e-3),
                _momentum_mu(0.9, "fraction of the velocity kept each step (0 = plain SGD)"),
            ),
            r"""
\begin{aligned}
m_t &= g_t + \mu\, m_{t-1} \\
\theta_t &= \theta_{t-1} - \alpha\, m_t
\end{aligned}""",
            "A velocity that accumulates gradients: faster along ravines, overshoots at turns.",
            "Polyak, Some methods of speeding up the convergence of iteration methods, 1964",
        ),
        _spec(
            "nesterov",
            "Nesterov momentum",
            momentum(nesterov=True),
            (
                _lr(1e-3),
                _momentum_mu(0.9, "fraction of the velocity kept each step"),
            ),
            r"""
\begin{aligned}
m_t &= g_t + \mu\, m_{t-1} \\
\theta_t &= \theta_{t-1} - \alpha\, (g_t + \mu\, m_t)
\end{aligned}""",
            "Momentum that looks one step ahead, so it brakes before overshooting.",
            "Sutskever et al., On the importance of initialization and momentum in deep learning, 2013",
        ),
        _spec(
            "adagrad",
            "Adagrad",
            adagrad(),
            (
                _lr(0.1, note="the accumulated Σg² only shrinks the step"),
                HyperParam(
                    "initial_accumulator_value",
                    "G_0",
                    0.1,
                    0.0,
                    1.0,
                    help="starting value of Σg² (0.1 optax/Keras, 0 PyTorch)",
                    valid=(0.0, 100.0),
                ),
                _eps(1e-7, "keeps the root away from 0 (1e-7 optax/Keras, 1e-10 PyTorch)"),
                _EPS_INSIDE,
            ),
            r"""
\begin{aligned}
G_t &= G_{t-1} + g_t^2 \qquad (G_0 \text{ given}) \\
\theta_t &= \theta_{t-1} - \alpha\, g_t \,/ \begin{cases} \sqrt{G_t + \epsilon}
  & \text{if } \epsilon_{\text{in}} \\ \sqrt{G_t} + \epsilon & \text{otherwise} \end{cases}
  && (0 \text{ where } G_t = 0)
\end{aligned}""",
            "Per-coordinate steps shrink with the sum of all past squared gradients: "
            "no tuning per axis, but the step only ever decays.",
            "Duchi, Hazan & Singer, Adaptive Subgradient Methods for Online Learning and "
            "Stochastic Optimization, JMLR 2011",
        ),
        _spec(
            "adadelta",
            "Adadelta",
            adadelta(),
            (
                _lr(
                    1.0,
                    low=1e-4,
                    high=10.0,
                    note="Zeiler has none (1.0, as PyTorch); Keras uses 0.001",
                ),
                HyperParam(
                    "rho",
                    r"\rho",
                    0.9,
                    0.0,
                    0.999,
                    help="decay of both running averages",
                    valid=_UNIT,
                ),
                _eps(1e-6, "sets the first steps' size: √ε / √(E[g²]+ε)"),
                _weight_decay(0.0, "L2 penalty added to the gradient (optax's coupled form)"),
            ),
            r"""
\begin{aligned}
E[g^2]_t &= \rho\, E[g^2]_{t-1} + (1-\rho)\, g_t^2 \\
\Delta_t &= \frac{\sqrt{E[\Delta^2]_{t-1} + \epsilon}}{\sqrt{E[g^2]_t + \epsilon}}\, g_t \\
E[\Delta^2]_t &= \rho\, E[\Delta^2]_{t-1} + (1-\rho)\, \Delta_t^2 \\
\theta_t &= \theta_{t-1} - \alpha\, \Delta_t
  && (g_t \leftarrow g_t + \lambda\,\theta_{t-1} \text{ first})
\end{aligned}""",
            "Step sizes in the units of θ, built from past steps: starts tiny (√ε) and "
            "grows, and a small learning rate (Keras' 0.001) nearly freezes it.",
            "Zeiler, ADADELTA: An Adaptive Learning Rate Method, 2012",
        ),
        _spec(
            "rmsprop",
            "RMSprop",
            rmsprop(),
            (
                _lr(0.01),
                HyperParam(
                    "decay",
                    r"\rho",
                    0.9,
                    0.0,
                    0.9999,
                    help="decay of the squared-gradient average (PyTorch: alpha)",
                    valid=_UNIT,
                ),
                _eps(1e-8, "keeps the root away from 0 (Keras 1e-7 inside, PyTorch 1e-8 outside)"),
                HyperParam(
                    "initial_scale",
                    "v_0",
                    0.0,
                    0.0,
                    1.0,
                    help="starting value of v (0 PyTorch/Keras, 1 TF1)",
                    valid=(0.0, 100.0),
                ),
                _EPS_INSIDE,
                _flag(
                    "centered",
                    r"\text{centered}",
                    0.0,
                    "divide by the standard deviation of g (v − m²) instead of its RMS",
                ),
                _momentum_mu(0.0, "momentum on the scaled step (0 = off)"),
                _flag("nesterov", r"\text{nesterov}", 0.0, "Nesterov form of that momentum"),
                _flag("bias_correction", r"\text{bc}", 0.0, "divide m and v by 1−ρ^t"),
            ),
            r"""
\begin{aligned}
m_t &= \rho\, m_{t-1} + (1-\rho)\, g_t \\
v_t &= \rho\, v_{t-1} + (1-\rho)\, g_t^2 \qquad (v_0 \text{ given}) \\
c_t &= \begin{cases} 1-\rho^t & \text{if } \text{bc} \\ 1 & \text{otherwise} \end{cases} \\
s_t &= \begin{cases} \max\big(v_t/c_t - (m_t/c_t)^2,\, 0\big) & \text{if } \text{centered} \\
  v_t / c_t & \text{otherwise} \end{cases} \\
u_t &= -\alpha\, g_t \,/ \begin{cases} \sqrt{s_t + \epsilon} & \text{if } \epsilon_{\text{in}} \\
  \sqrt{s_t} + \epsilon & \text{otherwise} \end{cases} \\
b_t &= u_t + \mu\, b_{t-1} \\
\theta_t &= \theta_{t-1} + \begin{cases} u_t + \mu\, b_t & \text{if } \text{nesterov} \\
  b_t & \text{otherwise} \end{cases}
\end{aligned}""",
            "Divides each coordinate by a running RMS of its gradients, so steep and flat "
            "directions move at similar speeds; forgets, unlike Adagrad.",
            "Hinton, Neural Networks for Machine Learning, lecture 6e, 2012; "
            "Graves, Generating Sequences With Recurrent Neural Networks, 2013 (centered)",
        ),
        _spec(
            "adam",
            "Adam",
            adam(),
            _ADAM_HPARAMS,
            _ADAM_LATEX,
            "Momentum plus RMSprop scaling with bias correction: steps of about α in every "
            "coordinate, whatever the gradient's scale.",
            "Kingma & Ba, Adam: A Method for Stochastic Optimization, 2014",
        ),
        _spec(
            "adamw",
            "AdamW",
            adam(decoupled_weight_decay=True),
            _ADAM_HPARAMS + (_weight_decay(1e-4, _DECOUPLED_DECAY_HELP),),
            _ADAMW_LATEX,
            "Adam with weight decay applied to θ directly, not through the gradient, so "
            "the adaptive scaling does not weaken it.",
            "Loshchilov & Hutter, Decoupled Weight Decay Regularization, 2019",
        ),
        _spec(
            "amsgrad",
            "AMSGrad",
            amsgrad(),
            (
                _lr(0.05, note="the max of v̂ keeps steps small after a steep start"),
                _b1(),
                _b2(),
                _ADAM_EPS,
                _eps_root(),
                _flag(
                    "max_raw",
                    r"\text{raw}",
                    0.0,
                    "keep the max of the uncorrected v (Keras, PyTorch), not of v̂ (optax)",
                ),
                _EPS_HAT,
            ),
            r"""
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
c_{k,t} &= 1-\beta_k^t, \quad \hat m_t = m_t / c_{1,t} \\
v^{\max}_t &= \begin{cases} \max(v^{\max}_{t-1},\, v_t) & \text{if } \text{raw} \\
  \max(v^{\max}_{t-1},\, v_t / c_{2,t}) & \text{otherwise} \end{cases} \\
\hat v_t &= \begin{cases} v^{\max}_t / c_{2,t} & \text{if } \text{raw} \\
  v^{\max}_t & \text{otherwise} \end{cases} \\
\theta_t &= \theta_{t-1} - \alpha \begin{cases}
  \hat m_t / (\sqrt{\hat v_t + \bar\epsilon} + \epsilon) & \text{if not } \hat\epsilon \\
  \frac{\sqrt{c_{2,t}}}{c_{1,t}}\, m_t / (\sqrt{c_{2,t} \hat v_t + \bar\epsilon} + \epsilon)
  & \text{if } \hat\epsilon \end{cases}
\end{aligned}""",
            "Adam whose denominator never shrinks, so a burst of large gradients keeps "
            "the steps small afterwards (the fix for Adam's non-convergence example).",
            "Reddi, Kale & Kumar, On the Convergence of Adam and Beyond, ICLR 2018",
        ),
        _spec(
            "adamax",
            "Adamax",
            adamax(),
            (
                _lr(0.05, note="the slowly decaying max of |g| keeps steps small"),
                _b1(),
                _b2(help_text="decay of the running max of |g|"),
                _eps(1e-8, "added to |g| inside the max (optax, PyTorch) or to v outside it (Keras)"),
                _flag(
                    "eps_outside",
                    r"\epsilon_{\text{out}}",
                    0.0,
                    "ε added to the max, v + ε (Keras), instead of to |g| inside it",
                ),
            ),
            r"""
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
v_t &= \begin{cases} \max\big(|g_t|,\; \beta_2 v_{t-1}\big) & \text{if } \epsilon_{\text{out}} \\
  \max\big(|g_t| + \epsilon,\; \beta_2 v_{t-1}\big) & \text{otherwise} \end{cases} \\
\hat m_t &= m_t / (1-\beta_1^t) \\
\theta_t &= \theta_{t-1} - \alpha\, \hat m_t / \begin{cases}
  v_t + \epsilon & \text{if } \epsilon_{\text{out}} \\ v_t & \text{otherwise} \end{cases}
\end{aligned}""",
            "Adam with the infinity norm: scales by a decaying max of |g| instead of an RMS.",
            "Kingma & Ba, Adam: A Method for Stochastic Optimization, 2014 (section 7)",
        ),
        _spec(
            "nadam",
            "NAdam",
            nadam(),
            (
                _lr(0.02),
                _b1(),
                _b2(),
                _ADAM_EPS,
                _eps_root(),
                _flag(
                    "momentum_schedule",
                    r"\text{sched}",
                    0.0,
                    "Dozat's momentum schedule μ_t (Keras, PyTorch) instead of a constant β₁ (optax)",
                ),
                HyperParam(
                    "momentum_decay",
                    r"\psi",
                    0.004,
                    1e-4,
                    1.0,
                    log=True,
                    help="pace of the schedule μ_t: 0.004 in PyTorch, 1 in Keras (0.96^t)",
                    valid=(0.0, 10.0),
                ),
            ),
            r"""
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
\mu_k &= \begin{cases} \beta_1 \big(1 - \tfrac12\, 0.96^{k\psi}\big) & \text{if } \text{sched} \\
  \beta_1 & \text{otherwise} \end{cases} \\
\hat m_t &= \frac{\mu_{t+1}\, m_t}{1 - \prod_{i=1}^{t+1} \mu_i}
  + \frac{(1-\mu_t)\, g_t}{1 - \prod_{i=1}^{t} \mu_i} \\
\hat v_t &= v_t / (1-\beta_2^t) \\
\theta_t &= \theta_{t-1} - \alpha\, \hat m_t / (\sqrt{\hat v_t + \bar\epsilon} + \epsilon)
\end{aligned}""",
            "Adam with Nesterov's look-ahead in the first moment: reacts sooner at turns.",
            "Dozat, Incorporating Nesterov Momentum into Adam, ICLR workshop 2016",
        ),
        _spec(
            "radam",
            "RAdam",
            radam(),
            (
                _lr(0.005, note="the first steps are plain momentum SGD: large α blows up"),
                _b1(),
                _b2(),
                _ADAM_EPS,
                _eps_root(),
                HyperParam(
                    "threshold",
                    r"\rho_{\min}",
                    5.0,
                    0.0,
                    20.0,
                    help="rectify once ρ_t ≥ this and ρ_t > 4 (r_t exists only there); "
                    "SGD-momentum before. Below 4 acts as 4",
                    valid=(0.0, 1e6),
                ),
                _EPS_HAT,
            ),
            r"""
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
\rho_\infty &= 2 / (1-\beta_2) - 1 \\
\rho_t &= \rho_\infty - 2t\, \beta_2^t / (1-\beta_2^t) \\
r_t &= \sqrt{\frac{(\rho_t-4)(\rho_t-2)\,\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\,\rho_t}} \\
c_{k,t} &= 1-\beta_k^t, \quad \hat m_t = m_t / c_{1,t}, \quad \hat v_t = v_t / c_{2,t} \\
d_t &= """
            + _ADAM_DIRECTION
            + r""" \\
\theta_t &= \theta_{t-1} - \alpha
  \begin{cases} r_t\, d_t & \text{if } \rho_t > 4 \text{ and } \rho_t \ge \rho_{\min} \\
  \hat m_t & \text{otherwise (momentum SGD)} \end{cases}
\end{aligned}""",
            "Adam with a built-in warm-up: momentum SGD until v̂ is trustworthy, then "
            "Adam scaled by the rectification r_t.",
            "Liu et al., On the Variance of the Adaptive Learning Rate and Beyond, ICLR 2020",
        ),
        _spec(
            "adabelief",
            "AdaBelief",
            adabelief(),
            (
                _lr(0.02),
                _b1(),
                _b2(help_text="decay of the average of (g − m)²"),
                _eps(1e-16, "added to √ŝ (optax default 1e-16; the paper uses 1e-8)", low=1e-20),
                _eps_root(1e-16, "added to s each step (optax default 1e-16)"),
            ),
            r"""
\begin{aligned}
m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
s_t &= \beta_2 s_{t-1} + (1-\beta_2)\, (g_t - m_t)^2 + \bar\epsilon \\
\hat m_t &= m_t / (1-\beta_1^t) \\
\hat s_t &= s_t / (1-\beta_2^t) \\
\theta_t &= \theta_{t-1} - \alpha\, \hat m_t / (\sqrt{\hat s_t} + \epsilon)
\end{aligned}""",
            "Adam that divides by how surprising the gradient is, (g − m)², not by its size: "
            "big confident steps where the gradient is predictable.",
            "Zhuang et al., AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed "
            "Gradients, NeurIPS 2020",
        ),
        _spec(
            "lion",
            "Lion",
            lion(),
            (
                _lr(
                    0.005,
                    low=1e-5,
                    high=1.0,
                    note="every coordinate moves exactly α, so keep it smaller than Adam's",
                ),
                _b1(0.9, "weight of the momentum in the sign's argument"),
                _b2(0.99, "decay of the momentum m"),
                _weight_decay(1e-3, _DECOUPLED_DECAY_HELP),
            ),
            r"""
\begin{aligned}
c_t &= \operatorname{sign}\big(\beta_1 m_{t-1} + (1-\beta_1)\, g_t\big) \\
m_t &= \beta_2 m_{t-1} + (1-\beta_2)\, g_t \\
\theta_t &= \theta_{t-1} - \alpha\, (c_t + \lambda\, \theta_{t-1})
\end{aligned}""",
            "Only the sign of an interpolated momentum: every coordinate moves by exactly α, "
            "whatever the gradient's size.",
            "Chen et al., Symbolic Discovery of Optimization Algorithms, 2023",
        ),
        # The 2026 course's optimizers (Schedule-Free, Prodigy, Yogi, Adan, Lookahead, SAM)
        *MODERN_SPECS,
    )
}
