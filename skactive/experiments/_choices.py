"""What the ``skactive`` command's names mean: models and strategies.

Shared by ``skactive compare`` and ``skactive select``.
"""

import importlib

from ..exceptions import CommandError

#: Short strategy names of the command, mapped to classes of ``skactive``.
STRATEGY_ALIASES = {
    "random": "RandomSampling",
    "margin": "MarginSampling",
    "entropy": "EntropySampling",
    "confidence": "LeastConfidence",
    "coreset": "CoreSet",
    "badge": "BADGE",
    "bait": "BAIT",
    "albl": "ALBL",
    "kdpp": "KDPP",
    "logdet": "GreedyLogDet",
}
MODELS = ("logistic", "ridge", "mlp", "skorch-mlp")
_MODEL_TASKS = {"logistic": {"classification"}, "ridge": {"regression"}}


def make_model(name, task, n_features, n_outputs, device, seed):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if task not in _MODEL_TASKS.get(name, {task}):
        other = "ridge" if task == "regression" else "logistic"
        raise CommandError(f"--model {name} does not do {task}; use --model {other} or mlp.")
    if name == "logistic":
        from sklearn.linear_model import LogisticRegression

        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    if name == "ridge":
        from sklearn.linear_model import Ridge

        return make_pipeline(StandardScaler(), Ridge())
    if name == "mlp":
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        cls = MLPClassifier if task == "classification" else MLPRegressor
        return make_pipeline(StandardScaler(), cls(hidden_layer_sizes=(128,), max_iter=500))
    return _make_skorch_mlp(task, n_features, n_outputs, device, seed)


def _make_skorch_mlp(task, n_features, n_outputs, device, seed):
    try:
        nn = importlib.import_module("skactive.nn")
        factory = nn.make_paper_mlp if task == "classification" else nn.make_paper_mlp_regressor
    except (ImportError, AttributeError) as exc:
        raise CommandError(
            "--model skorch-mlp needs torch, skorch and skactive.nn.make_paper_mlp, "
            f"which are not available here ({exc})."
        ) from None
    if device in ("auto", "numpy"):
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    return factory(n_features, n_outputs, device=device, random_state=seed)


def strategy_class(name):
    """The strategy class named ``name`` (a short name or a class of skactive), or None."""
    import skactive

    cls = getattr(skactive, STRATEGY_ALIASES.get(name.lower(), name), None)
    if isinstance(cls, type) and issubclass(cls, skactive.BaseQueryStrategy):
        return cls
    return None
