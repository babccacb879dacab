"""Written with glider-plugins 0.1.0 (commit 5655c79), before the layout change."""
import shutil
from pathlib import Path

from glider_plugins import Glider, InteractionAttribution
from glider_plugins.detectors import NIDDetector
from glider_plugins.detectors.moebius import MoebiusDetector
from tests.groundtruth.planted import planted_function, planted_instances

out = Path("tests/data/v0_1")
data = planted_instances(12, seed=3)
RUN = dict(top_k=3, baselines=0.0, seed=5, chunk_size=6, show_progress=False, n_samples=300)
for name, det in [("moebius", MoebiusDetector(fit_order=3)), ("nid", NIDDetector(max_order=3, patience=0)), ("auto", "auto")]:
    folder = out / f"checkpoint_{name}"
    shutil.rmtree(folder, ignore_errors=True)
    g = Glider(planted_function, detector=det).detect(data, checkpoint=folder, **RUN)
    g.to_json(out / f"global_{name}.json")
res = InteractionAttribution(planted_function).attribute_interactions(data[:3], baselines=0.0, n_samples=300, seed=0, feature_names=[f"f{i}" for i in range(12)])
res.to_json(out / "attribution.json")
