"""Figure builders: the traces promised, consistent colours, subsampling, divergence, sizes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import plotly.graph_objects as go
import pytest

from viz import figures as F
from viz._data import decimate_indices, drawable_path
from viz.colors import PALETTE, color_for, path_style, resolve_colors
from viz.contour import CLICK_GRID_POINTS


def names(fig: go.Figure) -> list[str]:
    return [t.name for t in fig.data]


def trace(fig: go.Figure, name: str):
    found = [t for t in fig.data if t.name == name]
    assert len(found) == 1, f"expected one trace named {name!r}, got {names(fig)}"
    return found[0]


def line_color(t) -> str:
    return t.line.color


# --- colours and subsampling -----------------------------------------------------------------


def test_palette_is_distinct_and_wraps():
    assert len(set(PALETTE)) == len(PALETTE) == 8
    assert color_for(0) == PALETTE[0] and color_for(8) == PALETTE[0] and color_for(9) == PALETTE[1]
    assert resolve_colors(3) == list(PALETTE[:3])
    with pytest.raises(ValueError):
        resolve_colors(3, ["#000000"])


def test_decimate_keeps_ends_budget_and_zigzag():
    n = 20_001
    steps = np.arange(n)
    # a zig-zag that flips side every step, drifting right: what SGD does in a ravine
    path = np.column_stack([steps * 1e-3, np.where(steps % 2 == 0, 1.0, -1.0)])
    idx = decimate_indices(path, 600)
    assert idx[0] == 0 and idx[-1] == n - 1
    assert len(idx) <= 600
    assert np.all(np.diff(idx) > 0)
    kept_y = path[idx, 1]
    # both sides survive all along the path (a stride of 2k would keep one side only)
    for part in np.array_split(kept_y, 10):
        assert part.min() == -1.0 and part.max() == 1.0
    assert np.array_equal(decimate_indices(path[:300], 600), np.arange(300))


def test_long_path_subsampled_first_and_last_kept(make_run, rosenbrock):
    long_run = make_run("adam", "Adam long", 5000, 0.02, kind="adam")
    fig = F.contour_figure(rosenbrock, [long_run])
    path = trace(fig, "Adam long")
    assert len(path.x) <= 600
    assert path.x[0] == pytest.approx(long_run.path[0, 0]) and path.y[0] == pytest.approx(long_run.path[0, 1])
    assert path.x[-1] == pytest.approx(long_run.path[-1, 0], rel=1e-6)
    assert path.y[-1] == pytest.approx(long_run.path[-1, 1], rel=1e-6)
    # the hover step numbers are the real step indices, first and last included
    assert path.customdata[0][0] == 0 and path.customdata[-1][0] == 5000


# --- contour map -----------------------------------------------------------------------------


def test_contour_traces_names_and_colors(four_runs, rosenbrock):
    fig = F.contour_figure(rosenbrock, four_runs)
    assert isinstance(fig.data[0], go.Contour)
    assert names(fig).count(F.CLICK_GRID_NAME) == 1
    grid = trace(fig, F.CLICK_GRID_NAME)
    assert grid.mode == "markers" and len(grid.x) == CLICK_GRID_POINTS**2
    assert grid.marker.opacity == 0 and grid.showlegend is False
    for i, run in enumerate(four_runs):
        path = trace(fig, F.display_label(run))
        assert line_color(path) == color_for(i)
        assert "lines" in path.mode
        assert ("markers" in path.mode) == (len(path.x) <= 120)  # dots only on short paths
        end = trace(fig, f"{run.label} end")
        assert end.marker.color == color_for(i)
    assert trace(fig, F.START_NAME).x[0] == pytest.approx(-1.5)
    stars = trace(fig, F.MINIMA_NAME)
    assert stars.marker.symbol == "star" and (stars.x[0], stars.y[0]) == (1.0, 1.0)
    assert list(fig.layout.xaxis.range) == [-2.0, 2.0] and list(fig.layout.yaxis.range) == [-1, 3]
    assert fig.layout.yaxis.scaleanchor == "x"


def test_contour_on_the_surface_picture_has_no_grid_and_one_transparent_click_layer(four_runs, rosenbrock):
    from viz.contour import CLICK_LAYER_NAME
    from viz.raster import surface_raster

    raster = surface_raster(rosenbrock, {}, pixels=64)
    fig = F.contour_figure(rosenbrock, four_runs, background=(raster, "media/x.png"))
    go.Figure(fig.to_dict())  # valid for plotly's validating constructor
    assert not any(t.type in ("contour", "heatmap") and t.name != CLICK_LAYER_NAME for t in fig.data)
    assert F.CLICK_GRID_NAME not in names(fig)
    layer = trace(fig, CLICK_LAYER_NAME)
    assert layer.type == "heatmap" and layer.opacity == 0 and len(layer.x) == CLICK_GRID_POINTS
    (image,) = fig.layout.images
    assert image.source == "media/x.png" and image.layer == "below"
    assert (image.x, image.y, image.sizex, image.sizey) == (-2.0, 3.0, 4.0, 4.0)
    # The colour bar still explains the picture's colours.
    bar = fig.data[0]
    assert bar.marker.showscale and (bar.marker.cmin, bar.marker.cmax) == raster.c_range


def test_contour_without_click_grid(four_runs, rosenbrock):
    fig = F.contour_figure(rosenbrock, four_runs, clickable=False)
    assert F.CLICK_GRID_NAME not in names(fig)


def test_log_colours_have_a_colour_bar_in_loss_units(four_runs, rosenbrock, plane):
    bar = F.contour_figure(rosenbrock, four_runs).data[0].colorbar
    assert "log" in bar.title.text
    assert list(bar.ticktext)[:3] == ["0", "0.1", "1"] or "1" in bar.ticktext
    # a surface without log colours: plain loss, no log ticks
    bar_lin = F.contour_figure(plane, []).data[0].colorbar
    assert bar_lin.ticktext is None and "log" not in bar_lin.title.text


def test_diverged_run_is_marked_and_drawn_finite(four_runs, rosenbrock):
    diverged = four_runs[3]
    assert diverged.diverged_at is not None
    fig = F.contour_figure(rosenbrock, four_runs)
    path = trace(fig, F.display_label(diverged))
    assert f"diverged at step {diverged.diverged_at}" in path.name
    assert np.all(np.isfinite(path.x)) and len(path.x) == diverged.diverged_at
    end = trace(fig, f"{diverged.label} end")
    assert end.marker.symbol == "x"
    # it left the view before blowing up: the x sits inside the domain, where it was last seen
    assert -2 <= end.x[0] <= 2 and -1 <= end.y[0] <= 3
    assert "diverged at step" in end.hovertemplate


def test_clicked_point_only_from_the_grid(four_runs, rosenbrock):
    fig = F.contour_figure(rosenbrock, four_runs)
    grid_index = names(fig).index(F.CLICK_GRID_NAME)
    path_index = names(fig).index(F.display_label(four_runs[0]))
    on_grid = {"selection": {"points": [{"curve_number": grid_index, "x": 0.5, "y": -0.25}]}}
    on_path = {"selection": {"points": [{"curve_number": path_index, "x": 0.1, "y": 0.2}]}}
    assert F.clicked_point(fig, on_grid) == (0.5, -0.25)
    assert F.clicked_point(fig, on_path) is None
    assert F.clicked_point(fig, None) is None
    assert F.clicked_point(fig, {"selection": {"points": []}}) is None


def test_contour_json_size_for_a_typical_playground(four_runs, rosenbrock):
    fig = F.contour_figure(rosenbrock, four_runs)
    size = F.figure_json_size(fig)
    assert size == len(fig.to_json().encode())
    assert size < 200_000, size  # 120x120 f4 grid + click grid + 4 x 500-step paths


# --- 3D ---------------------------------------------------------------------------------------


def test_surface3d_lifts_paths_and_hides_out_of_view(four_runs, rosenbrock):
    fig = F.surface3d_figure(rosenbrock, four_runs)
    assert isinstance(fig.data[0], go.Surface)
    for i, run in enumerate(four_runs):
        path = trace(fig, F.display_label(run))
        assert isinstance(path, go.Scatter3d) and path.line.color == color_for(i)
        x = np.asarray(path.x, dtype=float)
        shown = np.isfinite(x)
        assert np.all((x[shown] >= -2) & (x[shown] <= 2))
    assert fig.layout.scene.zaxis.title.text == "loss (log scale)"
    assert F.figure_json_size(fig) < 80_000


# --- curves -----------------------------------------------------------------------------------


def test_curves_one_trace_per_run_same_colours(four_runs, rosenbrock):
    for fig in (
        F.loss_figure(four_runs, rosenbrock),
        F.distance_figure(rosenbrock, four_runs),
        F.step_length_figure(four_runs),
    ):
        for i, run in enumerate(four_runs):
            assert line_color(trace(fig, F.display_label(run))) == color_for(i)
        assert fig.layout.yaxis.type == "log"
        marks = [t for t in fig.data if t.name and t.name.endswith(" diverged")]
        assert len(marks) == 1 and marks[0].marker.symbol == "x"


def test_diverged_blow_up_does_not_squash_the_others(four_runs, rosenbrock):
    fig = F.loss_figure(four_runs, rosenbrock)
    lo, hi = fig.layout.yaxis.range
    calm_max = max(np.nanmax(r.loss) for r in four_runs[:3])
    wild_max = np.nanmax(four_runs[3].loss[: four_runs[3].diverged_at])
    assert wild_max > 10 ** (hi + 1)  # the diverged run reaches far above the view...
    assert hi <= np.log10(calm_max) + 2.5  # ...which stays close to the runs that converge


def test_step_length_counts_from_one(four_runs):
    fig = F.step_length_figure(four_runs[:1])
    assert fig.data[0].x[0] == 1
    assert np.asarray(fig.data[0].y)[0] == pytest.approx(np.linalg.norm(four_runs[0].updates[0]))


def test_loss_that_goes_negative_is_shown_as_a_gap(make_run, rosenbrock):
    run = make_run("sgd", "SGD", 50, 1e-3)
    shifted = type(run)(**{**run.__dict__, "loss": run.loss - 20.0})
    fig = F.loss_figure([shifted], rosenbrock)
    assert "loss −" in fig.layout.yaxis.title.text
    assert np.all(np.asarray(fig.data[0].y) >= 0)


def test_distance_without_minima_says_so(four_runs, plane):
    fig = F.distance_figure(plane, four_runs)
    assert len(fig.data) == 0
    assert any("no known minimum" in a.text for a in fig.layout.annotations)


# --- animation --------------------------------------------------------------------------------


def test_animation_frames_update_only_path_traces(four_runs, rosenbrock):
    fig = F.animated_contour_figure(rosenbrock, four_runs)
    assert 2 <= len(fig.frames) <= 150
    animated = set(fig.frames[0].traces)
    for i in animated:
        assert isinstance(fig.data[i], go.Scatter), "the contour must stay out of the frames"
    assert {fig.data[i].name for i in animated} == {*[F.display_label(r) for r in four_runs], "position now"}
    for frame in fig.frames:
        assert set(frame.traces) == animated
        assert all(d.type == "scatter" for d in frame.data)
    # play and slider steps animate without redraw
    play = fig.layout.updatemenus[0].buttons[0]
    assert play.args[1]["frame"]["redraw"] is False
    steps = fig.layout.sliders[0].steps
    assert len(steps) == len(fig.frames)
    assert all(s.args[1]["frame"]["redraw"] is False for s in steps)
    assert [s.args[0][0] for s in steps] == [f.name for f in fig.frames]
    assert fig.frames[-1].name == "500"


def test_animation_moves_everyone_together_and_marks_divergence(four_runs, rosenbrock):
    fig = F.animated_contour_figure(rosenbrock, four_runs)
    last = fig.frames[-1].data[-1]  # the heads
    assert len(last.x) == 4
    assert last.x[2] == pytest.approx(four_runs[2].path[-1, 0], abs=1e-4)
    assert list(last.marker.symbol) == [path_style(i).end_symbol for i in range(3)] + ["x"]
    colors = fig.data[fig.frames[0].traces[-1]].marker.color
    assert list(colors) == [color_for(i) for i in range(4)]


def test_animation_frame_budget_and_size(make_run, rosenbrock, four_runs):
    long_runs = [make_run("adam", f"Adam {i}", 2000, 0.01 * (i + 1), kind="adam") for i in range(4)]
    fig = F.animated_contour_figure(rosenbrock, long_runs)
    assert len(fig.frames) <= 150
    stride = int(fig.frames[1].name) - int(fig.frames[0].name)
    assert stride % 2 == 1  # odd: a period-2 zig-zag keeps both sides
    assert F.figure_json_size(fig) < 300_000
    assert F.figure_json_size(F.animated_contour_figure(rosenbrock, four_runs)) < 280_000
    short = F.animated_contour_figure(rosenbrock, [make_run("sgd", "SGD", 30, 1e-3)])
    assert [f.name for f in short.frames] == [str(i) for i in range(31)]


# --- internals --------------------------------------------------------------------------------


def test_arrows_for_adam_and_sgd(four_runs, rosenbrock):
    adam = F.internals_arrows_figure(rosenbrock, four_runs[2], 40, color=color_for(2))
    arrow_names = [n for n in names(adam) if n and "(×" in n]
    assert len(arrow_names) == 3
    assert any(n.startswith("−gradient") for n in arrow_names)
    assert any(n.startswith("−m") for n in arrow_names)
    update = next(t for t in adam.data if t.name and t.name.startswith("actual update"))
    # drawn along the real update direction
    u = four_runs[2].updates[39]
    drawn = np.array([update.x[1] - update.x[0], update.y[1] - update.y[0]])
    cosine = np.dot(drawn, u) / (np.linalg.norm(drawn) * np.linalg.norm(u))
    assert cosine == pytest.approx(1, abs=1e-4)
    assert "rescaled" in adam.layout.annotations[0].text
    sgd = F.internals_arrows_figure(rosenbrock, four_runs[0], 40)
    assert not any(n and n.startswith("−m") for n in names(sgd))
    assert "no first moment" in sgd.layout.annotations[0].text


def test_arrows_degrade_for_an_immediately_diverged_run(make_run, rosenbrock):
    boom = make_run("sgd", "SGD huge", 20, 1e4)
    assert boom.diverged_at == 1
    fig = F.internals_arrows_figure(rosenbrock, boom, 5)
    assert len(fig.data) == 0 and "diverged" in fig.layout.annotations[0].text
    fig2 = F.internals_arrows_figure(rosenbrock, make_run("sgd", "SGD", 500, 1e-2), 300)
    assert "diverged" in fig2.layout.annotations[0].text  # clamped to its last finite step


def test_effective_step(four_runs):
    adam = F.effective_step_figure(four_runs[2], 40)
    assert [t.name for t in adam.data] == ["x coordinate", "y coordinate"]
    assert adam.layout.yaxis.type == "log"
    assert any(s.x0 == 40 for s in adam.layout.shapes)
    sgd = F.effective_step_figure(four_runs[0], 40)
    assert len(sgd.data) == 1 and "learning rate" in sgd.data[0].name
    assert any("does not adapt" in a.text for a in sgd.layout.annotations)


def test_moments(four_runs):
    adam = F.moments_figure(four_runs[2], 40)
    assert len(adam.data) == 8  # (m̂, m) and (v̂, v) for x and y
    assert {t.name for t in adam.data} >= {"m̂ (bias-corrected)", "v̂ (bias-corrected)"}
    assert adam.layout.xaxis.type == "log"
    assert sum(1 for s in adam.layout.shapes if s.x0 == 40) == 4
    momentum = F.moments_figure(four_runs[1], 40)
    assert len(momentum.data) == 2 and momentum.data[0].name == "m (no bias correction)"
    sgd = F.moments_figure(four_runs[0])
    assert len(sgd.data) == 0 and "keeps no moment" in sgd.layout.annotations[0].text


# --- small multiples, heatmap, basin ---------------------------------------------------------


def test_small_multiples(four_runs, rosenbrock):
    fig = F.small_multiples_figure(rosenbrock, four_runs, cols=2)
    contours = [t for t in fig.data if isinstance(t, go.Contour)]
    assert len(contours) == 4
    assert sum(bool(c.showscale) for c in contours) == 1  # one shared colour bar
    assert len({tuple(c.colorbar.tickvals or ()) for c in contours}) == 1
    assert len({t.xaxis for t in contours}) == 4
    for i, run in enumerate(four_runs):
        assert line_color(trace(fig, F.display_label(run))) == color_for(i)
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:4] == [F.display_label(r) for r in four_runs]
    with pytest.raises(ValueError):
        F.small_multiples_figure(rosenbrock, four_runs, titles=["one"])


def test_colours_consistent_across_every_figure(four_runs, rosenbrock):
    figs = [
        F.contour_figure(rosenbrock, four_runs),
        F.surface3d_figure(rosenbrock, four_runs),
        F.loss_figure(four_runs),
        F.distance_figure(rosenbrock, four_runs),
        F.step_length_figure(four_runs),
        F.animated_contour_figure(rosenbrock, four_runs),
        F.small_multiples_figure(rosenbrock, four_runs),
    ]
    for i, run in enumerate(four_runs):
        seen = {line_color(trace(f, F.display_label(run))) for f in figs}
        assert seen == {color_for(i)}


def test_heatmap_nan_cells_and_default(rosenbrock):
    lrs = np.logspace(-4, -1, 4)
    b1 = np.array([0.0, 0.9, 0.99])
    z = np.arange(12, dtype=float).reshape(3, 4) + 1
    z[2, 3] = np.nan
    fig = F.heatmap_figure(lrs, b1, z, "α", "β₁", "final loss", log_x=True, log_z=True, default=(1e-3, 0.9))
    assert "diverged" in names(fig)
    star = trace(fig, "default setting")
    assert star.x[0] == pytest.approx(1.0) and star.y[0] == pytest.approx(1.0)
    assert list(fig.layout.xaxis.ticktext) == ["1e-4", "0.001", "0.01", "0.1"]
    heat = fig.data[0]
    assert np.isnan(np.asarray(heat.z, dtype=float)[2, 3])
    assert heat.texttemplate == "%{text}"  # small grid: values printed
    clean = F.heatmap_figure(lrs, b1, np.ones((3, 4)), "α", "β₁", "loss")
    assert "diverged" not in names(clean)
    with pytest.raises(ValueError):
        F.heatmap_figure(lrs, b1, np.ones((4, 3)), "α", "β₁", "loss")


def test_basin_labels_and_steps(rosenbrock):
    xs, ys = np.linspace(-2, 2, 9), np.linspace(-1, 3, 9)
    labels = np.zeros((9, 9), dtype=int)
    labels[:, 5:] = 1
    labels[0, 0] = -1
    fig = F.basin_figure(xs, ys, labels=labels, minima=[(1, 1), (-1, 1)], surface=rosenbrock)
    legend = [n for n in names(fig) if n and n.startswith("reaches minimum")]
    assert len(legend) == 2 and "none / diverged" in names(fig)
    assert fig.data[0].zmin == -1.5 and fig.data[0].zmax == 1.5
    steps = np.full((9, 9), 40.0)
    steps[0, 0] = np.nan
    fig2 = F.basin_figure(xs, ys, steps=steps, minima=[(1, 1)])
    assert fig2.data[0].colorbar.title.text.startswith("steps")
    assert "never reached / diverged" in names(fig2)
    with pytest.raises(ValueError):
        F.basin_figure(xs, ys)
    with pytest.raises(ValueError):
        F.basin_figure(xs, ys, labels=labels, steps=steps)


def test_drawable_path_of_a_run_diverged_at_once(make_run):
    boom = make_run("sgd", "SGD huge", 20, 1e4)
    steps, pts = drawable_path(boom)
    assert list(steps) == [0] and pts.shape == (1, 2)


def test_viz_never_imports_streamlit():
    code = (
        "import sys, viz.figures, viz.export, viz.colors; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('streamlit'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


def test_every_figure_is_valid_plotly(four_runs, rosenbrock, plane):
    """Round-trip through plotly's validating constructor: no invalid property anywhere
    (the animation skips validation when it is built, for speed)."""
    figs = [
        F.contour_figure(rosenbrock, four_runs),
        F.surface3d_figure(rosenbrock, four_runs),
        F.animated_contour_figure(rosenbrock, four_runs),
        F.loss_figure(four_runs),
        F.distance_figure(plane, four_runs),
        F.internals_arrows_figure(rosenbrock, four_runs[2], 9),
        F.moments_figure(four_runs[2], 9),
        F.effective_step_figure(four_runs[0], 9),
        F.small_multiples_figure(rosenbrock, four_runs[:2]),
    ]
    for fig in figs:
        go.Figure(fig.to_dict())  # raises on any invalid property


def test_public_api_is_reexported():
    import viz

    for name in viz.__all__:
        assert getattr(viz, name) is not None
