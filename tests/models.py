"""Small real models for the tests: a CTR model and an image CNN, built identically in PyTorch and
Keras (weights copied across), so the same model can be served natively, as ONNX and as a
SavedModel, and every adapter must give the same scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

FIELD_CARDINALITIES = (7, 5, 11, 4)  # four categorical fields, id 0 = missing/OOV in each
N_DENSE = 3
EMBED_DIM = 4
IMAGE_SHAPE = (3, 8, 8)  # (C, H, W)
N_CLASSES = 3


class CTRModel(nn.Module):
    """Embeddings of int64 field ids + float dense values -> MLP -> one logit per row."""

    def __init__(self, cardinalities: tuple[int, ...] = FIELD_CARDINALITIES, n_dense: int = N_DENSE, embed_dim: int = EMBED_DIM, hidden: int = 16) -> None:
        super().__init__()
        offsets = np.concatenate([[0], np.cumsum(cardinalities)[:-1]])
        self.register_buffer("offsets", torch.as_tensor(offsets, dtype=torch.int64))
        self.embedding = nn.Embedding(int(sum(cardinalities)), embed_dim)
        self.hidden = nn.Linear(len(cardinalities) * embed_dim + n_dense, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, cat: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        emb = self.embedding(cat + self.offsets).flatten(1)
        return self.out(torch.relu(self.hidden(torch.cat([emb, dense], dim=1))))


class ImageCNN(nn.Module):
    """(N, 3, 8, 8) float images -> conv -> ReLU -> global mean -> N_CLASSES logits."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(IMAGE_SHAPE[0], 6, kernel_size=3, padding=1)
        self.fc = nn.Linear(6, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))


def make_ctr_model(seed: int = 0) -> CTRModel:
    torch.manual_seed(seed)
    return CTRModel().eval()


def make_image_cnn(seed: int = 0) -> ImageCNN:
    torch.manual_seed(seed)
    return ImageCNN().eval()


def ctr_batch(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cat = np.stack([rng.integers(0, c, size=n) for c in FIELD_CARDINALITIES], axis=1).astype(np.int64)
    dense = rng.normal(size=(n, N_DENSE)).astype(np.float32)
    return cat, dense


def image_batch(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, *IMAGE_SHAPE)).astype(np.float32)


# ----------------------------------------------------------------- exports
def export_torch_onnx(model: nn.Module, example: tuple[torch.Tensor, ...], names: list[str], path: Path) -> Path:
    torch.onnx.export(
        model,
        example,
        str(path),
        input_names=names,
        output_names=["score"],
        dynamic_axes={**{n: {0: "batch"} for n in names}, "score": {0: "batch"}},
        dynamo=False,
    )
    return path


def keras_ctr_model(torch_model: CTRModel):
    """The same CTR model in Keras, with the PyTorch weights."""
    import keras

    cards = FIELD_CARDINALITIES
    cat = keras.Input(shape=(len(cards),), dtype="int64", name="cat")
    dense = keras.Input(shape=(N_DENSE,), dtype="float32", name="dense_values")
    shift = _offsets_layer(torch_model.offsets.numpy())
    shifted = shift(cat)
    embedding = keras.layers.Embedding(int(sum(cards)), EMBED_DIM, name="embedding")
    flat = keras.layers.Flatten()(embedding(shifted))
    hidden = keras.layers.Dense(torch_model.hidden.out_features, activation="relu", name="hidden")
    out = keras.layers.Dense(1, name="logit")
    model = keras.Model([cat, dense], out(hidden(keras.layers.Concatenate()([flat, dense]))))
    embedding.set_weights([torch_model.embedding.weight.detach().numpy()])
    hidden.set_weights([torch_model.hidden.weight.detach().numpy().T, torch_model.hidden.bias.detach().numpy()])
    out.set_weights([torch_model.out.weight.detach().numpy().T, torch_model.out.bias.detach().numpy()])
    return model


def _offsets_layer(offsets: np.ndarray):
    """A Keras layer adding each field's offset into the shared embedding table (a graph constant)."""
    import keras

    class AddOffsets(keras.layers.Layer):
        def build(self, input_shape):
            self.offsets = self.add_weight(shape=offsets.shape, dtype="int64", initializer=keras.initializers.Constant(offsets), trainable=False, name="offsets")

        def call(self, ids):
            return ids + self.offsets

    return AddOffsets(name="field_offsets")


def keras_image_cnn(torch_model: ImageCNN):
    """The same CNN in Keras: takes (N, C, H, W) like PyTorch, transposes to channels-last inside."""
    import keras

    x = keras.Input(shape=IMAGE_SHAPE, dtype="float32", name="image")
    conv = keras.layers.Conv2D(torch_model.conv.out_channels, 3, padding="same", activation="relu", name="conv")
    h = conv(keras.layers.Permute((2, 3, 1))(x))
    fc = keras.layers.Dense(N_CLASSES, name="fc")
    model = keras.Model(x, fc(keras.layers.GlobalAveragePooling2D()(h)))
    conv.set_weights([torch_model.conv.weight.detach().numpy().transpose(2, 3, 1, 0), torch_model.conv.bias.detach().numpy()])
    fc.set_weights([torch_model.fc.weight.detach().numpy().T, torch_model.fc.bias.detach().numpy()])
    return model


def export_keras(model, onnx_path: Path, saved_model_dir: Path) -> tuple[Path, Path]:
    """Keras' own exports: ONNX (through tf2onnx) and a TensorFlow SavedModel."""
    model.export(str(onnx_path), format="onnx", verbose=False)
    model.export(str(saved_model_dir), format="tf_saved_model", verbose=False)
    return onnx_path, saved_model_dir
