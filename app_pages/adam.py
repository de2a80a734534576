"""Adam explained: from gradient descent to Adam, each equation beside a live widget.

Numbers come from optim_core's optimizers stepped over 1D gradient streams
(playground.adam_demo); every widget keeps its value in the URL under its key: a link is read
by adam_demo.read_query (values read to the widgets' ranges, with warnings), the URL written
back by ui.sync_query.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages import ui
from playground import adam_demo as ad
from viz import adam as vadam

ss = st.session_state
PLAYGROUND = "app_pages/playground.py"
QUERY_STATE = "adam.query"  # the URL this page last wrote (ui.sync_query)
VALUES = "adam.values"  # the widgets' last values (outlive the widgets' own state)


def _spec(key: str) -> ad.WidgetSpec:
    return ad.WIDGETS[key]


def slider(label: str, key: str, help: str | None = None) -> float:
    s = _spec(key)
    return st.slider(
        label, float(s.low), float(s.high), step=float(s.step), key=key, help=help, format="%.4g"
    )


def choice(label: str, key: str, help: str | None = None):  # noqa: ANN201
    s = _spec(key)
    return st.select_slider(label, list(s.options), key=key, format_func=s.label, help=help)


def stream_picker(key: str) -> str:
    s = _spec(key)
    kind = st.selectbox("gradient stream", list(s.options), key=key)
    st.caption(ad.STREAM_KINDS[kind])
    return kind


def playground_link(section: str, **values: float) -> None:
    st.page_link(
        PLAYGROUND,
        label="Try it on a 2D surface in the Playground →",
        icon="🎢",
        query_params=ad.playground_link(section, **values),
    )


st.title("Adam, explained")
st.markdown(
    "Adam is plain gradient descent with two running averages bolted on: one of the gradient "
    "(momentum) and one of its square (RMSProp's scale), plus a fix for how both averages start. "
    "We build it up one idea at a time. Each equation sits next to a small experiment on a "
    "single parameter; every number in the plots comes from the same optimizer code the "
    "Playground runs."
)

# The link is read once per new URL (first visit, a shared link, back/forward): every value is
# read to what its widget can show, with a warning for each one that was not usable as it was.
# Coming back from another page (an empty URL) restores the last values.
if ui.url_changed(QUERY_STATE):
    query = ui.current_query()
    ss.pop(QUERY_STATE, None)  # the URL must be written back in full
    warnings: list[str]
    if not query and VALUES in ss:
        values, warnings = ss[VALUES], []
    else:
        values, warnings = ad.read_query(query)
    for key, value in values.items():
        ss[key] = value
    ui.show_warnings(warnings, "The link had values that could not be used")
else:
    for key, value in ss.get(VALUES, ad.default_values()).items():
        ss.setdefault(key, value)  # widget state Streamlit dropped while on another page

with st.sidebar:
    seed = int(
        st.number_input(
            "Stream seed",
            0,
            999,
            step=1,
            key="adam.seed",
            help="The same seed gives the same noisy and sparse streams.",
        )
    )

# --- 1. Gradient descent -------------------------------------------------------------------------
st.header("1 · Gradient descent: full, stochastic, mini-batch")
left, right = st.columns([1, 1], gap="large")
with left:
    st.markdown(
        "Training means lowering an average loss over N examples. Gradient descent takes a "
        "step of size α against the gradient of that average:"
    )
    st.latex(
        r"L(\theta) = \frac{1}{N}\sum_{i=1}^{N} \ell_i(\theta), \qquad "
        r"\theta_t = \theta_{t-1} - \alpha\, g_t"
    )
    st.markdown(
        "The three classic forms differ only in how much data goes into the gradient $g_t$ of each step:"
    )
    st.latex(
        r"\begin{aligned} \text{full batch:}\quad g_t &= \nabla L(\theta_{t-1})"
        r" && N \text{ examples} \\ \text{stochastic:}\quad g_t &= \nabla \ell_{i_t}"
        r"(\theta_{t-1}) && 1 \text{ example} \\ \text{mini-batch:}\quad g_t &= "
        r"\tfrac{1}{B}\textstyle\sum_{i \in \mathcal{B}_t} \nabla \ell_i(\theta_{t-1})"
        r" && B \text{ examples} \end{aligned}"
    )
    st.markdown(
        "A full-batch step is exact but costs N gradient evaluations. A single example is cheap "
        "but its gradient wobbles around the true one; averaging B examples shrinks that wobble "
        "by a factor √B. The experiment fits one weight w to 512 noisy numbers (the best w is "
        "their mean): watch the stochastic path jitter around the answer while the full batch "
        "glides in."
    )
with right:
    batch = choice("mini-batch size B", "adam.gd.batch")
    lr = slider("learning rate α", "adam.gd.lr")
    sizes = [1, int(batch), ad.DATA_POINTS]
    paths, w_star = ad.minibatch_paths(sizes, lr, seed=seed)
    ui.chart(vadam.gd_figure(paths, sizes, w_star, ad.DATA_POINTS), width="stretch", key="adam.gd.chart")
    spread = [float(np.std(p[-30:])) for p in paths]
    st.caption(
        f"Spread of w over the last 30 steps: {spread[0]:.3f} (B = 1), {spread[1]:.3f} "
        f"(B = {batch}), {spread[2]:.3f} (full batch)."
    )
    playground_link("gd", batch_size=batch, learning_rate=lr)

# --- 2. Momentum ---------------------------------------------------------------------------------
st.header("2 · Momentum: an exponentially weighted average")
left, right = st.columns([1, 1], gap="large")
with left:
    st.markdown(
        "Instead of stepping along the latest gradient, keep a running average $m_t$ of the "
        "gradients and step along that. Each step keeps a share β of the old average and "
        "mixes in 1 − β of the new gradient:"
    )
    st.latex(
        r"\begin{aligned} m_t &= \beta\, m_{t-1} + (1-\beta)\, g_t, \qquad m_0 = 0 \\"
        r"\theta_t &= \theta_{t-1} - \alpha\, m_t \end{aligned}"
    )
    st.markdown("Unrolled, the weights on past gradients fall off geometrically:")
    st.latex(r"m_t = (1-\beta) \sum_{k=1}^{t} \beta^{\,t-k}\, g_k")
    st.markdown(
        "so $m_t$ remembers roughly the last 1/(1 − β) gradients: 10 for β = 0.9, 100 for "
        "β = 0.99. Noise and back-and-forth swings cancel in the average, while a direction "
        "that keeps pointing the same way adds up. The price is lag: the average needs time "
        "to notice a change. (The Playground's *heavy-ball* momentum writes the same idea "
        "as $m_t = g_t + \\mu m_{t-1}$, which is this average scaled by 1/(1 − μ).)"
    )
with right:
    kind = stream_picker("adam.mom.stream")
    b1 = slider("β (how much of the past to keep)", "adam.mom.b1")
    run = ad.run_stream("adam", ad.gradient_stream(kind, seed=seed), ad.adam_hparams(b1=b1))
    ui.chart(vadam.momentum_figure(run, b1), width="stretch", key="adam.mom.chart")
    st.caption(
        "Grey dots: the gradients. Blue line: their running average $m_t$ "
        "(Adam's first moment, straight from its code)."
    )
    playground_link("momentum", b1=b1)

# --- 3. RMSProp ----------------------------------------------------------------------------------
st.header("3 · RMSProp: divide by the typical gradient size")
left, right = st.columns([1, 1], gap="large")
with left:
    st.markdown(
        "Some directions have huge gradients, others tiny ones, and one α cannot suit both. "
        "RMSProp keeps a running average of the *squared* gradient, whose square root is the "
        "gradient's typical size (its root mean square), and divides each step by it:"
    )
    st.latex(
        r"\begin{aligned} v_t &= \beta_2\, v_{t-1} + (1-\beta_2)\, g_t^2 \\"
        r"\theta_t &= \theta_{t-1} - \alpha\, \frac{g_t}{\sqrt{v_t + \epsilon}} \end{aligned}"
    )
    st.markdown(
        "The ratio $g_t/\\sqrt{v_t}$ has no units: multiply every gradient by 1000 and the step "
        "stays the same. So each parameter moves by about α per step, steep or flat, and "
        "the step only shrinks where the gradient is small *compared with its own recent "
        "history*. Move the gradient scale below and watch the blue line stay put. (Its first "
        "steps are too large, about $1/\\sqrt{1-\\beta_2}$ times α: $v$ starts at 0, which "
        "section 4 fixes.)"
    )
with right:
    kind = stream_picker("adam.rms.stream")
    c1, c2 = st.columns(2)
    with c1:
        b2 = slider("β₂ (decay of v)", "adam.rms.b2")
    with c2:
        scale = choice("gradient scale", "adam.rms.scale")
    grads = ad.gradient_stream(kind, seed=seed, scale=scale)
    run = ad.run_stream("rmsprop", grads, {"learning_rate": 1.0, "decay": b2})
    ui.chart(vadam.rmsprop_figure(run), width="stretch", key="adam.rms.chart")
    st.caption(
        "Log scale. Grey: gradient sizes; orange: their running RMS √v; blue: the step "
        "RMSProp takes, in units of α (optim_core's RMSprop)."
    )
    playground_link("rmsprop", b2=b2)

# --- 4. Adam -------------------------------------------------------------------------------------
st.header("4 · Adam: both averages, with bias correction")
left, right = st.columns([1, 1], gap="large")
with left:
    st.markdown(
        "Adam keeps both averages, momentum's $m_t$ and RMSProp's $v_t$, and steps along their ratio:"
    )
    st.latex(
        r"\begin{aligned} m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t &"
        r" \hat m_t &= \frac{m_t}{1-\beta_1^{\,t}} \\"
        r" v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 &"
        r" \hat v_t &= \frac{v_t}{1-\beta_2^{\,t}} \\"
        r" \theta_t &= \theta_{t-1} - \alpha\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}"
        r" \end{aligned}"
    )
    st.markdown(
        "Both averages start at 0, so early on they are too small: after t steps of a constant "
        "gradient g, $m_t = (1-\\beta_1^t)\\,g$, not g. Dividing by $1-\\beta^t$ undoes exactly "
        "that shortfall; the hats are the corrected averages. The fix matters most for $v$: "
        "with β₂ = 0.999 the raw $v_t$ needs thousands of steps to catch up. Without it, the "
        "very first step is $(1-\\beta_1)/\\sqrt{1-\\beta_2} \\approx 3.2$ times α instead of α. "
        "Switch the correction off and compare the dashed and solid lines."
    )
with right:
    kind = stream_picker("adam.adam.stream")
    c1, c2 = st.columns(2)
    with c1:
        b1 = slider("β₁", "adam.adam.b1")
    with c2:
        b2 = slider("β₂", "adam.adam.b2")
    bc = st.toggle("bias correction", key="adam.adam.bc")
    grads = ad.gradient_stream(kind, seed=seed)
    on, off = ad.run_streams(
        "adam", [grads, grads], [ad.adam_hparams(b1, b2), ad.adam_hparams(b1, b2, bias_correction=False)]
    )
    shown = on if bc else off
    ui.chart(vadam.adam_moments_figure(shown), width="stretch", key="adam.adam.chart")
    st.caption(
        "Solid: the raw averages m and v. Dashed: the corrected m̂ and v̂ "
        + (
            "(they start right at the gradient's level)."
            if bc
            else "(with the correction off they are the same as the raw ones)."
        )
    )
    ui.chart(vadam.bias_step_figure(on, off), width="stretch", key="adam.bc.chart")
    c1, c2 = st.columns(2)
    c1.metric("first step, corrected", f"{on.relative_step[0]:.2f} α")
    c2.metric("first step, uncorrected", f"{off.relative_step[0]:.2f} α")
    playground_link("adam", b1=b1, b2=b2)

# --- 5. epsilon ----------------------------------------------------------------------------------
st.header("5 · ε, and where it goes")
left, right = st.columns([1, 1], gap="large")
with left:
    st.markdown(
        "ε only keeps the division finite, so it should not matter, until the gradients are "
        "about as small as ε itself, as on a plateau. Frameworks also put it in different "
        "places. optax and PyTorch add it to the corrected $\\sqrt{\\hat v_t}$; Keras follows "
        "the paper's efficient form, adding its $\\hat\\epsilon$ to the *uncorrected* "
        "$\\sqrt{v_t}$ and moving the corrections into the step size:"
    )
    st.latex(
        r"\text{optax, PyTorch:}\quad \Delta\theta_t = -\alpha\,"
        r"\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}"
    )
    st.latex(
        r"\text{Keras:}\quad \Delta\theta_t = -\alpha\,"
        r"\frac{\sqrt{1-\beta_2^{\,t}}}{1-\beta_1^{\,t}}\,\frac{m_t}{\sqrt{v_t} + \hat\epsilon}"
    )
    st.markdown(
        "Early on, $\\sqrt{v_t}$ is only about $\\sqrt{1-\\beta_2} \\approx 0.03$ of the "
        "gradient's size, so the Keras ε bites some 30 times sooner. With the frameworks' "
        "defaults (ε = 1e-8, ε̂ = 1e-7), a first gradient of 1e-6 gives a first step of "
        "0.99 α in optax and PyTorch but only 0.24 α in Keras. In the long run, on gradients "
        "far below ε, both forms step about α·|g|/ε: Adam has quietly turned into plain SGD "
        "with learning rate α/ε."
    )
with right:
    g = choice("gradient size on the plateau |g|", "adam.eps.g")
    c1, c2 = st.columns(2)
    with c1:
        eps = choice("ε (optax / PyTorch)", "adam.eps.eps")
    with c2:
        eps_hat = choice("ε̂ (Keras)", "adam.eps.epshat")
    g_values = np.logspace(-10, 0, 61)
    optax_curve = ad.first_step_ratio(g_values, eps, eps_hat=False)
    keras_curve = ad.first_step_ratio(g_values, eps_hat, eps_hat=True)
    optax_at, keras_at = (
        float(ad.first_step_ratio([g], eps, eps_hat=False)[0]),
        float(ad.first_step_ratio([g], eps_hat, eps_hat=True)[0]),
    )
    c1, c2 = st.columns(2)
    c1.metric("first step, optax / PyTorch", f"{optax_at:.2f} α")
    c2.metric("first step, Keras", f"{keras_at:.2f} α")
    ui.chart(
        vadam.eps_first_step_figure(g_values, optax_curve, keras_curve, g, optax_at, keras_at, eps, eps_hat),
        width="stretch",
        key="adam.eps.chart",
    )
    plateau = np.full(2000, g, np.float32)
    p_optax, p_keras = ad.run_streams(
        "adam", [plateau, plateau], [ad.adam_hparams(eps=eps), ad.adam_hparams(eps=eps_hat, eps_hat=True)]
    )
    ui.chart(vadam.eps_plateau_figure(p_optax, p_keras, g), width="stretch", key="adam.eps.plateau")
    st.caption(
        "Top: the first step for every gradient size; the dotted line is the |g| you "
        "picked. Bottom: the same tiny gradient for 2000 steps. The Keras form "
        "starts at a fraction of α and needs thousands of steps to catch up, because its "
        "raw √v grows past ε̂ only slowly."
    )
    playground_link("eps")

# --- 6. beta2 too small --------------------------------------------------------------------------
st.header("6 · When β₂ is too small")
left, right = st.columns([1, 1], gap="large")
with left:
    st.markdown(
        "β₂ sets how long Adam remembers how large the gradients were. Make it small and $v$ "
        "forgets a big gradient within a few steps, while $m$ (β₁ = 0.9) still carries it. "
        "After a lone kick at step s and silence afterwards:"
    )
    st.latex(
        r"\frac{\hat m_{s+k}}{\sqrt{\hat v_{s+k}}} \;\propto\; "
        r"\left(\frac{\beta_1}{\sqrt{\beta_2}}\right)^{k}"
    )
    st.markdown(
        "If $\\beta_2 < \\beta_1^2$ (0.81 for β₁ = 0.9) the ratio grows with every quiet step, so "
        "the step size balloons far above α, long after the gradient that caused it is gone. "
        "On sparse or bursty gradients that is how a small β₂ throws the parameters away. "
        "Keeping β₂ close to 1 (0.999) makes $v$ a long memory, and the step stays below α."
    )
with right:
    kind = stream_picker("adam.b2.stream")
    b2 = slider("β₂", "adam.b2.b2")
    grads = ad.gradient_stream(kind, seed=seed)
    small, usual = ad.run_streams("adam", [grads, grads], [ad.adam_hparams(b2=b2), ad.adam_hparams(b2=0.999)])
    ui.chart(vadam.beta2_figure(small, usual, b2), width="stretch", key="adam.b2.chart")
    c1, c2 = st.columns(2)
    c1.metric(f"largest step, β₂ = {b2:g}", f"{small.relative_step.max():.3g} α")
    c2.metric("largest step, β₂ = 0.999", f"{usual.relative_step.max():.3g} α")
    playground_link("beta2", b2=b2)

ss[VALUES] = {key: ss[key] for key in ad.WIDGETS}
ui.sync_query(ad.to_query(ss[VALUES]), QUERY_STATE)
