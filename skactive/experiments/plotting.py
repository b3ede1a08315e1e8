"""Plots of simulated active learning: learning curves, penalty matrix, error CDF.

matplotlib is the optional ``plot`` extra (``pip install "skactive[plot]"``)
and is imported only when a function here is called. Each function draws
into ``ax`` when given one (so a script can use a bare
``matplotlib.figure.Figure`` and no GUI backend), otherwise into a new
pyplot figure, and returns the axes.
"""

import numpy as np

__all__ = ["plot_error_cdf", "plot_learning_curves", "plot_penalty_matrix"]


def _axes(ax, figsize):
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            'Plotting needs matplotlib; install it with pip install "skactive[plot]".'
        ) from None
    return plt.subplots(figsize=figsize)[1]


def _one_setting(curves, setting):
    if hasattr(curves, "curves"):
        grouped = curves.curves()
        if setting is None:
            if len(grouped) != 1:
                raise ValueError(
                    f"curves holds {len(grouped)} settings; pick one with setting=, "
                    f"one of {list(grouped)}."
                )
            setting = next(iter(grouped))
        if setting not in grouped:
            raise ValueError(f"setting={setting!r} is not one of {list(grouped)}.")
        return grouped[setting], setting
    return curves, setting


def plot_learning_curves(curves, *, setting=None, ax=None, ylabel=None, title=None):
    """Mean test score against labels used, with standard-error bands.

    Parameters
    ----------
    curves : ResultCollection or dict
        A collection (pick a setting with ``setting`` if it holds several) or
        ``{algorithm: (n_labels, scores)}`` with ``scores`` of shape
        ``(n_repeats, n_points)``.
    setting : str, default=None
        Which setting of a collection to plot.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    ylabel : str, default=None
        Y-axis label; default the collection's scoring name or "score".
    title : str, default=None
        Axes title; default the setting's label.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from matplotlib.figure import Figure
    >>> from skactive.experiments.plotting import plot_learning_curves
    >>> n = np.array([10, 20, 30])
    >>> ax = Figure().add_subplot()
    >>> ax = plot_learning_curves({"random": (n, [[.5, .6, .7], [.5, .62, .69]])}, ax=ax)
    >>> [line.get_label() for line in ax.get_lines()]
    ['random']
    """
    if ylabel is None and hasattr(curves, "results") and len(curves):
        ylabel = curves[0].scoring
    by_alg, setting = _one_setting(curves, setting)
    ax = _axes(ax, (6, 4))
    for name, (n_labels, scores) in by_alg.items():
        scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
        mean = scores.mean(axis=0)
        (line,) = ax.plot(n_labels, mean, label=str(name))
        if scores.shape[0] > 1:
            se = scores.std(axis=0, ddof=1) / np.sqrt(scores.shape[0])
            ax.fill_between(n_labels, mean - se, mean + se, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("labels used")
    ax.set_ylabel(ylabel or "score")
    if title or setting is not None:
        ax.set_title(title or str(setting))
    ax.grid(linestyle="--", linewidth=0.5)
    ax.legend()
    return ax


def plot_penalty_matrix(penalty, *, ax=None, title=None, cmap="viridis"):
    """Heat map of a penalty matrix with its column averages underneath.

    Parameters
    ----------
    penalty : Bunch
        The output of :func:`skactive.experiments.evaluation.penalty_matrix`.
    ax : matplotlib Axes, default=None
        Where to draw the matrix; the averages go in an inset below it.
    title : str, default=None
        Axes title; default names the number of settings (or says that no
        budget was compared).
    cmap : str, default="viridis"
        Colour map.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from matplotlib.figure import Figure
    >>> from sklearn.utils import Bunch
    >>> from skactive.experiments.plotting import plot_penalty_matrix
    >>> P = Bunch(matrix=np.array([[0, 0.0], [1, 0]]), names=["random", "good"],
    ...           column_means=np.array([0.5, 0.0]), n_settings=1)
    >>> ax = plot_penalty_matrix(P, ax=Figure().add_subplot())
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['random', 'good', 'column mean']
    """
    P = np.asarray(penalty.matrix, dtype=np.float64)
    means = np.asarray(penalty.column_means, dtype=np.float64)
    names = [str(n) for n in penalty.names]
    k = len(names)
    ax = _axes(ax, (1.2 * k + 2, 1.0 * k + 2))
    # Nothing compared leaves an all-zero matrix: keep the scale at [0, 1] then.
    vmax = max(float(P.max()), float(means.max())) or 1.0
    # One mesh: the matrix, a thin blank band, then the column means
    # (lower is better) as a last row, so the layout stays inside one Axes.
    gap = 0.3
    compared = bool(penalty.n_settings)
    rows = np.vstack([P, np.full(k, np.nan), means])
    rows = np.ma.masked_invalid(rows if compared else np.full_like(rows, np.nan))
    y_edges = np.r_[np.arange(k + 1), k + gap, k + gap + 1]
    image = ax.pcolormesh(np.arange(k + 1), y_edges, rows, cmap=cmap, vmin=0.0, vmax=vmax)
    centres = np.r_[np.arange(k) + 0.5, k + gap + 0.5]
    for i, y in enumerate(centres):
        for j in range(k):
            v = P[i, j] if i < k else means[j]
            colour = "black" if v > 0.6 * vmax or not compared else "white"
            text = f"{v:.2f}" if compared else "n/a"
            ax.text(j + 0.5, y, text, ha="center", va="center", color=colour, fontsize=8)
    ax.set_xlim(0, k)
    ax.set_ylim(k + gap + 1, 0)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(k) + 0.5, names, rotation=45, ha="left")
    ax.set_yticks(centres, [*names, "column mean"])
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_ylabel("row beats column")
    n = penalty.n_settings
    default = (
        f"penalty matrix ({n} setting{'' if n == 1 else 's'})"
        if n
        else ("penalty matrix: no budgets compared")
    )
    ax.set_title(title or default)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax


def plot_error_cdf(cdf, *, ax=None, title=None):
    """Step plot of each algorithm's normalised-error CDF (BADGE paper, Fig. 4).

    Parameters
    ----------
    cdf : Bunch
        The output of :func:`skactive.experiments.evaluation.normalized_error_cdf`.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    title : str, default=None
        Axes title; default says what the curves show.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from matplotlib.figure import Figure
    >>> from sklearn.utils import Bunch
    >>> from skactive.experiments.plotting import plot_error_cdf
    >>> cdf = Bunch(names=["random"], cdf={"random": (np.array([1.0, 1.0]), np.array([.5, 1.]))})
    >>> ax = plot_error_cdf(cdf, ax=Figure().add_subplot())
    >>> ax.get_xlabel()
    'error / random sampling error'
    """
    ax = _axes(ax, (6, 4))
    baseline = cdf.get("baseline")
    for name in cdf.names:
        x, F = cdf.cdf[name]
        if not len(x):
            continue
        # The baseline is a vertical step at 1 that other curves can hide:
        # draw it dashed, in black, on top.
        style = {"color": "black", "linestyle": "--", "zorder": 3} if name == baseline else {}
        # Start the step at 0 so each curve rises from the x axis.
        ax.step(np.r_[x[0], x], np.r_[0.0, F], where="post", label=str(name), **style)
    if ax.get_lines():
        lo, hi = ax.get_xlim()
        ax.set_xlim(min(lo, 0.95), max(hi, 1.05))  # keep the step at 1 off the frame
    ax.set_xlabel("error / random sampling error")
    ax.set_ylabel("cumulative frequency")
    ax.set_ylim(0, 1.02)
    ax.set_title(title or "normalised error: fraction of budgets at or below x")
    ax.grid(linestyle="--", linewidth=0.5)
    if ax.get_lines():
        ax.legend(loc="lower right")
    else:
        ax.text(0.5, 0.5, "no budgets to compare", ha="center", transform=ax.transAxes)
    return ax
