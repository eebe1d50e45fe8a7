"""Calibrated clause-to-expert scores for the embedded planner.

Raw cosine similarities of MiniLM embeddings sit close together (0.34 vs 0.28 for the top
two), so softmax(cos / 0.3) is nearly uniform. Each (clause, expert) pair gets four features:
cosine to the expert's description and to its nearest exemplar phrase, and for the clause's
head (its verb phrase without the destination) the nearest-exemplar cosine and whether it
contains the expert's name (stemmed). Features are z-scored across the experts of
a clause, and a linear map fitted on a labelled set (``lexicon.CALIBRATION_SET``) by maximum
likelihood of softmax(score / tau) turns them into the scores extract_i.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from metaworld_hwm.semantic.encoder import TextEncoder
from metaworld_hwm.semantic.lexicon import CALIBRATION_SET, EXEMPLARS
from metaworld_hwm.semantic.text import head, stem, stems
from metaworld_hwm.semantic.types import DEFAULT_TAU, ExpertLike, catalog_cards, softmax

FEATURES = ("description", "exemplar", "head_exemplar", "head_name_match")


def _similarities(
    encoder: TextEncoder, texts: Sequence[str], experts: Sequence[ExpertLike]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cosine to each description and nearest exemplar, and name containment; (T, E) each."""
    q = encoder.encode(list(texts))
    desc = q @ encoder.encode([e.description for e in experts]).T
    exemplar = np.stack(
        [
            (q @ encoder.encode(list(EXEMPLARS.get(e.name, (e.description,)))).T).max(axis=1)
            for e in experts
        ],
        axis=1,
    )
    words = [stems(t) for t in texts]
    match = np.array([[float(stem(e.name) in w) for e in experts] for w in words])
    return desc, exemplar, match


def clause_features(
    encoder: TextEncoder, clauses: Sequence[str], experts: Sequence[ExpertLike]
) -> np.ndarray:
    """Raw features, shape (clauses, experts, len(FEATURES)).

    ``head_`` features are computed on the clause without its destination (`text.head`):
    in "walk to the stairs" the name "stairs" is where to go, not how, so name containment
    is only checked there.
    """
    desc, exemplar, _ = _similarities(encoder, clauses, experts)
    _, head_exemplar, head_match = _similarities(encoder, [head(c) for c in clauses], experts)
    return np.stack([desc, exemplar, head_exemplar, head_match], axis=-1).astype(np.float64)


def standardise(features: np.ndarray) -> np.ndarray:
    """z-score each feature across the experts of each clause (constant features -> 0)."""
    mean = features.mean(axis=1, keepdims=True)
    std = features.std(axis=1, keepdims=True)
    return np.where(std > 1e-8, (features - mean) / np.maximum(std, 1e-8), 0.0)


@dataclass(frozen=True)
class Calibration:
    """Scores = standardised features @ coefficients, meant for softmax(scores / tau)."""

    coefficients: tuple[float, ...]
    tau: float = DEFAULT_TAU

    def scores(self, features: np.ndarray) -> np.ndarray:
        """Calibrated scores (clauses, experts) from raw features (clauses, experts, F)."""
        return standardise(features) @ np.asarray(self.coefficients)


def fit_coefficients(
    z: np.ndarray, labels: np.ndarray, tau: float = DEFAULT_TAU, l2: float = 1e-3
) -> np.ndarray:
    """Maximum-likelihood coefficients of softmax(z @ a / tau) for integer ``labels``."""
    from scipy.optimize import minimize  # lazily: keeps `metaworld-hwm --help` fast

    n, _, f = z.shape
    onehot = np.eye(z.shape[1])[labels]

    def loss(a: np.ndarray) -> tuple[float, np.ndarray]:
        logits = z @ a / tau
        logits -= logits.max(axis=1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        p = np.exp(logp)
        nll = -(onehot * logp).sum() / n + l2 * a @ a
        grad = np.einsum("ce,cef->f", p - onehot, z) / (n * tau) + 2 * l2 * a
        return float(nll), grad

    result = minimize(loss, np.full(f, 0.1), jac=True, method="L-BFGS-B")
    return np.asarray(result.x)


def fit_calibration(
    encoder: TextEncoder,
    examples: Sequence[tuple[str, str]] = CALIBRATION_SET,
    experts: Sequence[ExpertLike] | None = None,
    tau: float = DEFAULT_TAU,
    features: Sequence[str] = FEATURES,
) -> Calibration:
    """Fit the score calibration on labelled ``(clause, expert name)`` pairs.

    ``features`` selects a subset of `FEATURES` (the others get coefficient 0), which the
    benchmark uses to compare calibrations.
    """
    experts = tuple(experts) if experts is not None else catalog_cards()
    names = [e.name for e in experts]
    unknown = sorted({label for _, label in examples} - set(names))
    if unknown:
        raise ValueError(f"calibration labels {unknown} are not among the experts {names}")
    mask = np.array([f in features for f in FEATURES])
    z = standardise(clause_features(encoder, [t for t, _ in examples], experts))[..., mask]
    labels = np.array([names.index(label) for _, label in examples])
    coefficients = np.zeros(len(FEATURES))
    coefficients[mask] = fit_coefficients(z, labels, tau)
    return Calibration(tuple(float(c) for c in coefficients), tau)


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = 5) -> dict[str, float]:
    """Top-1 accuracy, mean confidence, NLL and expected calibration error of ``probs``."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    nll = float(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean())
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    ece = sum(
        abs(correct[idx == b].mean() - conf[idx == b].mean()) * (idx == b).mean()
        for b in range(bins)
        if np.any(idx == b)
    )
    return {
        "accuracy": float(correct.mean()),
        "confidence": float(conf.mean()),
        "nll": nll,
        "ece": float(ece),
    }


def raw_cosine_probs(features: np.ndarray, tau: float = DEFAULT_TAU) -> np.ndarray:
    """Uncalibrated baseline: softmax(cos(clause, description) / tau) per clause."""
    return np.stack([softmax(row, tau) for row in features[..., FEATURES.index("description")]])
