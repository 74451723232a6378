"""Golden JSON outputs of ``preflight check``, ``fix --dry-run``, a ``fix`` manifest and ``join``.

The documents the tools print must stay byte-identical across refactors. Each case runs the CLI
in-process on a fixture and compares its JSON output with ``tests/golden/<name>.json`` after
replacing only machine-specific text (temporary paths). Regenerate after an intended change with
``PREFLIGHT_UPDATE_GOLDEN=1 pytest tests/test_golden_preflight.py``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from golden_compare import assert_matches_golden

from fixtures import container, long
from preflight.cli.main import cli

GOLDEN = Path(__file__).parent / "golden"
MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"
UPDATE = os.environ.get("PREFLIGHT_UPDATE_GOLDEN") == "1"


def normalise(text: str, replacements: dict[str, str]) -> str:
    """Replace machine-specific paths (longest first) by stable placeholders, and the size and
    SHA-256 of encoded segments: libx264's bytes differ between runs on a loaded machine (seen:
    a few dozen bytes moving between two segments), everything else in the documents does not."""
    for old, new in sorted(replacements.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(old, new)
    text = re.sub(r'"bytes": \d+', '"bytes": "<BYTES>"', text)
    return re.sub(r'"sha256": "[0-9a-f]{64}"', '"sha256": "<SHA256>"', text)


def compare(name: str, text: str, replacements: dict[str, str]) -> None:
    assert_matches_golden(GOLDEN / f"{name}.json", normalise(text, replacements), update=UPDATE)


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--json", "-q"], prog_name="preflight")
    assert result.exit_code in (0, 1), (result.exit_code, result.output, result.stderr)
    return result.stdout


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """The clips under stable names in one temporary directory (their cache names hold digests)."""
    root = tmp_path_factory.mktemp("golden")
    sources = {
        "bikes.mp4": MEDIA / "skv_bikes.mp4",
        "cuts.mp4": long.many_cuts(seconds=8, cuts=12)[0],
        "rotated.mp4": container.rotated_phone_clip()[0],
    }
    for name, src in sources.items():
        shutil.copyfile(src, root / name)
    return {name: root / name for name in sources}


@pytest.mark.parametrize("name", ["bikes.mp4", "cuts.mp4", "rotated.mp4"])
def test_check(clips, name):
    root = clips[name].parent
    compare(f"check_{Path(name).stem}", invoke("check", str(clips[name])), {str(root): "<DIR>"})


@pytest.mark.parametrize("name", ["cuts.mp4", "rotated.mp4"])
def test_fix_dry_run(clips, name):
    root = clips[name].parent
    out = root / f"dry_{Path(name).stem}"
    text = invoke("fix", str(clips[name]), "--dry-run", "--preset", "ultrafast", "-o", str(out))
    compare(f"fix_dry_run_{Path(name).stem}", text, {str(root): "<DIR>"})


def test_fix_manifest_and_join(clips):
    root = clips["cuts.mp4"].parent
    out = root / "fixed"
    text = invoke("fix", str(clips["cuts.mp4"]), "--preset", "fast", "-o", str(out))
    compare("fix_cuts", text, {str(root): "<DIR>"})
    compare("fix_cuts_manifest", (out / "manifest.json").read_text(), {str(root): "<DIR>"})
    joined = root / "joined.mp4"
    text = invoke("join", str(out / "manifest.json"), str(out), "-o", str(joined))
    compare("join_cuts", text, {str(root): "<DIR>"})
