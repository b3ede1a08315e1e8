"""The experiment layer: the papers' protocol, built on the library core.

* :mod:`skactive.experiments.simulation`: simulated active learning
  (random initial set, then query, reveal labels, refit) and its results;
* :mod:`skactive.experiments.evaluation`: the BADGE paper's penalty matrix
  and normalised-error CDF over many runs;
* :mod:`skactive.experiments.plotting`: learning curves, penalty matrix and
  CDF plots (the ``plot`` extra);
* :mod:`skactive.experiments.datasets`: the papers' real data sets and
  users' own ``.npz`` archives;
* ``_compare``: the ``skactive compare`` subcommand.

Nothing in the core (strategies, kernels, backends, adapters) imports from
here. The former paths ``skactive.simulation``, ``skactive.evaluation``,
``skactive.plotting`` and ``skactive.datasets`` still import the same names.
"""
