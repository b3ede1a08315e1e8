"""The experiment layer: the papers' protocol and the command, built on the core.

* :mod:`skactive.experiments.simulation`: simulated active learning
  (random initial set, then query, reveal labels, refit) and its results;
* :mod:`skactive.experiments.evaluation`: the BADGE paper's penalty matrix
  and normalised-error CDF over many runs;
* :mod:`skactive.experiments.plotting`: learning curves, penalty matrix and
  CDF plots (the ``plot`` extra);
* :mod:`skactive.experiments.datasets`: the papers' real data sets and
  users' own files (``.npz`` archives; CSV, Parquet and ``.npy`` tables);
* ``_compare`` and ``_select``: the ``skactive compare`` and ``skactive
  select`` subcommands, and ``_choices``, the model and strategy names they
  share.

Nothing in the core (strategies, kernels, backends, adapters) imports from
here. The former paths ``skactive.simulation``, ``skactive.evaluation``,
``skactive.plotting`` and ``skactive.datasets`` still import the same names.
"""
