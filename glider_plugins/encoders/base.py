"""What an encoder is: a scikit-learn style transformer that turns feature columns into new columns.

Encoders (the built-in cross-feature encoder and plugins alike) follow scikit-learn's transformer
conventions, without depending on scikit-learn:

* ``__init__`` only stores its arguments, unchanged, as attributes of the same name (so
  :meth:`Encoder.get_params`, :meth:`Encoder.set_params` and ``sklearn.base.clone`` work);
* :meth:`Encoder.fit` validates those parameters and the data, learns, and returns ``self``;
* everything learned lives in attributes whose names end in ``_`` (``n_features_in_``,
  ``feature_names_in_``, ...), so "fitted" means "has such attributes";
* :meth:`Encoder.transform` maps a 2-D table of the same columns to a 2-D array; calling it before
  ``fit`` raises :class:`NotFittedError`;
* :meth:`Encoder.get_feature_names_out` names the output columns.

An encoder fits into a ``sklearn.pipeline.Pipeline`` and accepts numpy arrays, lists of rows and
pandas DataFrames (whose column names are remembered as ``feature_names_in_``).
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from ..errors import GliderError, InputError

__all__ = ["Encoder", "NotFittedError"]


class NotFittedError(GliderError, ValueError, AttributeError):
    """An encoder was used before :meth:`Encoder.fit` (same bases as scikit-learn's)."""


class Encoder(ABC):
    """Base class of encoders: ``fit(X, y=None) -> self``, ``transform(X) -> array``.

    Subclasses implement :meth:`fit`, :meth:`transform` and :meth:`get_feature_names_out`, and use
    the helpers :meth:`_validate_input` (records/checks the input columns) and
    :meth:`_check_is_fitted`.

    Examples
    --------
    A minimal encoder that centres every column::

        class Centre(Encoder):
            name = "centre"

            def __init__(self, with_mean=True):
                self.with_mean = with_mean            # store only; validate in fit

            def fit(self, X, y=None):
                X = self._validate_input(X, reset=True)
                self.mean_ = X.mean(axis=0) if self.with_mean else np.zeros(X.shape[1])
                return self

            def transform(self, X):
                self._check_is_fitted()
                return self._validate_input(X, reset=False) - self.mean_

            def get_feature_names_out(self, input_features=None):
                return self._input_feature_names(input_features)
    """

    #: Registry name, e.g. ``"cross"``.
    name: ClassVar[str] = ""

    # ------------------------------------------------------------------ the transformer interface
    @abstractmethod
    def fit(self, X: Any, y: Any = None) -> Encoder:
        """Validate the parameters and ``X``, learn, and return ``self``.

        Parameters
        ----------
        X : array-like or pandas.DataFrame, shape (n_rows, n_features)
        y : ignored
            Accepted for pipeline compatibility.

        Returns
        -------
        self
        """

    @abstractmethod
    def transform(self, X: Any) -> np.ndarray:
        """Encode ``X`` (the same columns as in :meth:`fit`).

        Returns
        -------
        numpy.ndarray, shape (n_rows, n_features_out)
        """

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """``fit(X, y)`` then ``transform(X)``."""
        return self.fit(X, y).transform(X)

    @abstractmethod
    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns.

        Parameters
        ----------
        input_features : sequence of str, optional
            Names of the input columns; default: ``feature_names_in_`` when fitted on a DataFrame,
            else ``x0, x1, ...``.

        Returns
        -------
        numpy.ndarray of str (object dtype), shape (n_features_out,)
        """

    # ------------------------------------------------------------------ parameters
    @classmethod
    def _param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        params = inspect.signature(init).parameters.values()
        return sorted(p.name for p in params if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments, read back from the attributes of the same name."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Encoder:
        """Set constructor arguments (validated at the next :meth:`fit`); returns ``self``."""
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise InputError(f"{type(self).__name__} has no parameter {key!r}; its parameters: {', '.join(valid) or 'none'}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __sklearn_tags__(self) -> Any:
        """scikit-learn (>= 1.6) estimator tags: a transformer that needs fitting, any 2-D input.

        Only scikit-learn calls this (``clone``, ``Pipeline``, ``check_is_fitted``), so it may import it.
        """
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=TransformerTags(),
            input_tags=InputTags(two_d_array=True, categorical=True, string=True, allow_nan=True),
        )

    # ------------------------------------------------------------------ fitted state
    def __sklearn_is_fitted__(self) -> bool:
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))

    def _check_is_fitted(self) -> None:
        """Raise :class:`NotFittedError` unless :meth:`fit` has run."""
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X) before transform(X)")

    # ------------------------------------------------------------------ input helpers
    def _validate_input(self, X: Any, *, reset: bool) -> np.ndarray:
        """``X`` as a 2-D numpy array; record (``reset=True``) or check the input columns.

        With ``reset=True`` sets ``n_features_in_`` and, for a DataFrame with string column names,
        ``feature_names_in_``. With ``reset=False`` checks that ``X`` has the same columns.
        """
        columns = getattr(X, "columns", None)
        names = None
        if columns is not None and all(isinstance(c, str) for c in columns):
            names = np.asarray(list(columns), dtype=object)
        array = np.asarray(X)
        if array.ndim == 1:
            raise InputError(f"X must be 2-D (n_rows, n_features), got a 1-D array of shape {array.shape}; reshape it with X.reshape(-1, 1) for one column")
        if array.ndim != 2:
            raise InputError(f"X must be 2-D (n_rows, n_features), got shape {array.shape}")
        if reset:
            self.n_features_in_ = int(array.shape[1])
            if names is not None:
                self.feature_names_in_ = names
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            return array
        if array.shape[1] != self.n_features_in_:
            raise InputError(f"X has {array.shape[1]} columns, but {type(self).__name__} was fitted on {self.n_features_in_}")
        fitted_names = getattr(self, "feature_names_in_", None)
        if fitted_names is not None and names is not None and list(names) != list(fitted_names):
            raise InputError(f"X's columns {list(names)} differ from those seen in fit {list(fitted_names)}")
        return array

    def _input_feature_names(self, input_features: Any = None) -> np.ndarray:
        """The input column names: ``input_features``, ``feature_names_in_`` or ``x0, x1, ...``."""
        self._check_is_fitted()
        if input_features is not None:
            names = np.asarray(list(input_features), dtype=object)
            if len(names) != self.n_features_in_:
                raise InputError(f"input_features has {len(names)} names, expected {self.n_features_in_}")
            fitted_names = getattr(self, "feature_names_in_", None)
            if fitted_names is not None and list(names) != list(fitted_names):
                raise InputError(f"input_features {list(names)} differ from feature_names_in_ {list(fitted_names)}")
            return names
        fitted_names = getattr(self, "feature_names_in_", None)
        if fitted_names is not None:
            return np.asarray(fitted_names, dtype=object)
        return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)
