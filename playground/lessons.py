"""Guided lessons: each one a full Playground setup (as a share-link query) and what to look at."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lesson:
    slug: str
    title: str
    summary: str  # one line for the home page
    look_for: str  # a few sentences shown above the figures
    query: dict[str, str | list[str]]  # the Playground setup, in share-link form


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "ravine",
        "Zig-zag in a ravine",
        "Plain SGD bounces between the steep walls of a narrow valley; momentum calms it.",
        "The ravine is 50 times steeper across than along. SGD's step must be small enough "
        "for the steep direction, so it crawls along the valley and bounces from wall to wall "
        "(see its oscillation index in the metrics). Momentum averages the bounces away: the "
        "across-valley components cancel while the along-valley ones add up. Raise μ towards "
        "0.99 and watch it overshoot instead.",
        {"s": "ravine", "sp.condition": "50", "sp.angle": "30", "steps": "200",
         "x0": "-2.5", "y0": "1.5",
         "o": ["sgd(learning_rate=0.035)", "momentum(learning_rate=0.02,momentum=0.7)"]},
    ),
    Lesson(
        "rosenbrock",
        "The Rosenbrock valley",
        "Finding the curved valley is easy; following it to the minimum is the hard part.",
        "Every optimizer drops into the banana-shaped valley within a few steps, then slows "
        "down: the floor is nearly flat and curved. Compare how far SGD, momentum and Adam get "
        "along it, and look at Adam's per-coordinate step size in the Internals tab: it grows "
        "where gradients are small.",
        {"s": "rosenbrock", "steps": "1000", "x0": "-1.5", "y0": "2",
         "o": ["sgd(learning_rate=0.001)", "momentum(learning_rate=0.001)",
               "adam(learning_rate=0.02)", "rmsprop(learning_rate=0.005)"]},
    ),
    Lesson(
        "saddle",
        "Escaping a saddle",
        "Start almost exactly on a saddle: without a push, plain gradient descent stays put.",
        "At (1, 0) the gradient of x² − y² points straight at the saddle point, so SGD slides "
        "in and stops there. A tiny bit of gradient noise tips it off the ridge; momentum then "
        "carries it away fast. Set the noise σ to 0 and watch the noisy runs get stuck too.",
        {"s": "saddle", "steps": "150", "x0": "1", "y0": "0", "noise": "0.02", "seed": "3",
         "o": ["sgd(learning_rate=0.05)", "momentum(learning_rate=0.05)",
               "adam(learning_rate=0.05)"]},
    ),
    Lesson(
        "noise",
        "Noise versus learning rate",
        "With noisy gradients a large step rattles around the minimum; a small one is precise but slow.",
        "The bowl's gradients carry Gaussian noise. A large learning rate gets close fast and then "
        "jitters at a distance set by α·σ; a small one gets closer in the end but takes longer. "
        "Switch the schedule to cosine or step decay to get both: big steps early, small late.",
        {"s": "noisy_bowl", "noise": "1", "steps": "400",
         "o": ["sgd(learning_rate=0.3)", "sgd(learning_rate=0.03)"]},
    ),
    Lesson(
        "bias-correction",
        "Why Adam corrects its bias",
        "Without bias correction Adam's first steps are far too small or too large.",
        "Adam's moments start at zero, so early on m and v are biased towards zero. Dividing by "
        "1 − βᵗ undoes that. Open Internals to compare m with m̂ and v with v̂ over the first "
        "steps, then compare the two runs: the uncorrected one starts with a step of the wrong size.",
        {"s": "booth", "steps": "150", "x0": "-6", "y0": "-6",
         "o": ["adam(learning_rate=0.5)", "adam(learning_rate=0.5,bias_correction=0)"]},
    ),
    Lesson(
        "extreme-eps-beta2",
        "Extreme ε and β₂",
        "A huge ε turns Adam into plain SGD; a small β₂ makes its step size jumpy.",
        "Three Adams on a smooth bowl (noise off). With ε = 1 the denominator √v̂ + ε is "
        "dominated by ε as soon as the gradients shrink below 1, so Adam loses its adaptive "
        "scaling and creeps in like SGD: compare its steps to tolerance with the default's. With "
        "β₂ = 0.5, v̂ follows only the last few squared gradients, so the step size jumps whenever "
        "the gradient changes: its path wanders (path / displacement well above 1). Open "
        "Internals and watch the effective step size.",
        {"s": "noisy_bowl", "noise": "0", "steps": "300", "x0": "-2.5", "y0": "2",
         "o": ["adam(learning_rate=0.05)", "adam(learning_rate=0.05,eps=1)",
               "adam(learning_rate=0.05,b2=0.5)"]},
    ),
    Lesson(
        "frameworks",
        "Same name, different optimizer",
        "Adam in Keras and in PyTorch are not quite the same formula; on a plateau it shows.",
        "Keras adds ε to the uncorrected √v and folds the bias corrections into the step size; "
        "PyTorch and optax add ε to √v̂. With tiny gradients (a plateau far from the minimum) the "
        "Keras form takes a much smaller first step. Compare the presets on the Ackley surface's "
        "flat outskirts.",
        {"s": "ackley", "steps": "300", "x0": "3.6", "y0": "3.1",
         "o": ["adam(learning_rate=0.05)@keras", "adam(learning_rate=0.05)@pytorch"]},
    ),
)

LESSONS_BY_SLUG = {lesson.slug: lesson for lesson in LESSONS}


def lesson_query(lesson: Lesson) -> dict[str, str | list[str]]:
    """The Playground link of a lesson: its setup plus the lesson's slug for the banner."""
    return {**lesson.query, "lesson": lesson.slug}
