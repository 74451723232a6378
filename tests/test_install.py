"""Issue 12, item 1: a fresh install is what CI tests, and every dependency has tested bounds."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_dependency_has_tested_bounds():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    requirements = [r for reqs in [project["dependencies"], *extras.values()] for r in reqs
                    if not r.startswith("video-preflight[")]  # the test extra pulls in the others
    assert any(r.startswith("hypothesis") for r in extras["test"])
    # issue 10: Dask is an optional extra that the test extra includes, so CI exercises --scheduler
    assert any(r.startswith("distributed") for r in extras["dask"])
    assert not any(r.startswith(("distributed", "dask")) for r in project["dependencies"])
    assert any(r.startswith("video-preflight[") and "dask" in r and "report" in r for r in extras["test"])
    for req in requirements:
        spec = req.split(";")[0]
        assert re.search(r">=\s*[0-9]", spec) and re.search(r"<\s*[0-9]", spec), req


def test_ci_builds_a_fresh_venv_and_runs_the_readme_commands():
    script = (ROOT / ".ci" / "run").read_text()
    assert "-m venv" in script and "README.md" in script and "ruff check ." in script
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert block == [
        "python -m pip install -e . && preflight check fixtures/media/skv_bikes.mp4",
        "python -m pip install -e '.[test]' && python -m pytest",
    ]
