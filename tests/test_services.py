"""``preflight fix --service``: request bodies for every editor service, limits, cost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preflight.errors import UsageError
from preflight.services import SERVICES, validate_body
from preflight.services.bodies import SegmentAnchor, SegmentInput, build_body, schema_for
from preflight.services.cost import PRICES_READ, billed_seconds
from preflight.services.requests import PLACEHOLDER, build_requests, parse_video_url
from preflight.services.table import GEN4_SIZES, TABLE_READ
from tests.services_util import (
    image,
    load_json,
    one_line_error,
    one_shot,
    preflight,
    small_profile,
    three_shots,
)

ALL = list(SERVICES)


@pytest.fixture(scope="module")
def fixed(tmp_path_factory):
    """One fix of the 90 s three-shot clip for all six services, with 4 anchors (3 with images)."""
    tmp = tmp_path_factory.mktemp("services")
    prof = small_profile(tmp)
    imgs = [image(tmp, f"ref{i}.png", c) for i, c in enumerate([(255, 0, 0), (0, 255, 0), (0, 0, 255)])]
    out = tmp / "out"
    args = [
        "fix",
        three_shots(),
        "-o",
        out,
        "--profile",
        prof,
        "--preset",
        "ultrafast",
        "--json",
        "--prompt",
        "make the sky purple",
        "--anchor",
        f"first={imgs[0]}",
        "--anchor",
        f"35={imgs[1]}",
        "--anchor",
        f"65={imgs[2]}",
        "--anchor",
        "80",
    ]
    for s in ALL:
        args += ["--service", s]
    r = preflight(*args)
    assert r.exit_code == 0, (r.output, r.stderr)
    return out, json.loads(r.stdout), r.stderr


def body(out: Path, segment: int, service: str):
    stem = load_json(out / "manifest.json")["segments"][segment - 1]["file"].rsplit(".", 1)[0]
    return load_json(out / "requests" / f"{stem}.{service}.json")


def test_table_is_dated_and_every_service_has_a_schema():
    assert TABLE_READ.isoformat() == "2026-11-28" and PRICES_READ.isoformat() == "2026-11-28"
    for s in SERVICES.values():
        assert schema_for(s)["$schema"].endswith("2020-12/schema")


def test_every_body_of_a_three_segment_fix_validates(fixed):
    out, doc, _ = fixed
    manifest = load_json(out / "manifest.json")
    assert len(manifest["segments"]) == 3
    for seg in manifest["segments"]:
        assert sorted(seg["requests"]) == sorted(ALL)
        for service, rel in seg["requests"].items():
            path = out / rel
            assert path.name == f"{Path(seg['file']).stem}.{service}.json"
            validate_body(SERVICES[service], load_json(path))  # raises on any schema violation
    assert len(doc["files"]["requests"]) == 18


def test_anchor_at_35s_lands_at_5s_in_segment_2(fixed):
    out, _, _ = fixed
    assert [k["seconds"] for k in body(out, 2, "runway")["keyframes"]] == [5.0]
    assert body(out, 2, "runware")[0]["inputs"]["frameImages"][0]["timestamp"] == 5.0
    assert body(out, 2, "cloudflare")["input"]["keyframes"][0]["seconds"] == 5.0
    first = body(out, 1, "runware")
    assert first[0]["inputs"]["frameImages"] == [
        {"image": first[0]["inputs"]["frameImages"][0]["image"], "frame": "first"}
    ]


def test_untimed_services_get_references_and_a_warning(fixed):
    out, _, stderr = fixed
    gen4 = body(out, 2, "runway-gen4")
    assert len(gen4["references"]) == 1 and gen4["ratio"] in {f"{w}:{h}" for w, h in GEN4_SIZES}
    assert "timing (5.00 s) is lost" in stderr
    assert "anchor '80' has no image" in stderr


def test_gen4_service_switches_the_size_plan(fixed):
    out, _, stderr = fixed
    m = load_json(out / "manifest.json")
    assert (m["output"]["width"], m["output"]["height"]) in GEN4_SIZES
    assert "Gen-4 sizes" in stderr
    task = body(out, 1, "runware-gen4")[0]
    assert (task["width"], task["height"]) == (m["output"]["width"], m["output"]["height"])


def test_video_reference_data_uri_or_placeholder(fixed):
    out, _, stderr = fixed
    runway = body(out, 1, "runway")
    assert runway["videoUri"].startswith("data:video/mp4;base64,")  # runway takes data URIs up to 16 MB
    assert runway["keyframes"][0]["uri"].startswith("data:image/png;base64,")
    seg1 = load_json(out / "manifest.json")["segments"][0]["file"]
    assert body(out, 1, "runware")[0]["inputs"]["video"] == PLACEHOLDER.format(file=seg1)
    assert "placeholder" in stderr


def test_cost_in_the_plan(fixed):
    _, doc, _ = fixed
    costs = {c["service"]: c for c in doc["services"]}
    assert costs["runway"]["billed_seconds"] == 90 and costs["runway"]["estimate"] == 1350
    assert costs["runware"]["estimate"] == pytest.approx(25.2)
    assert costs["cometapi"]["requests"] == 3 and costs["cometapi"]["estimate"] is None
    assert billed_seconds([30.0, 30.0, 29.95, 0.2]) == 30 + 30 + 30 + 1


def test_dry_run_prints_the_cost(tmp_path):
    prof = small_profile(tmp_path)
    r = preflight(
        "fix",
        one_shot(12),
        "-o",
        tmp_path / "o",
        "--profile",
        prof,
        "--dry-run",
        "--quiet",
        "--service",
        "runway",
        "--service",
        "runware",
        "--prompt",
        "x",
    )
    assert r.exit_code == 0, r.stderr
    assert "runway        1 request(s), 12 billed s: about 180 credits" in r.stdout
    assert "about $3.36" in r.stdout
    assert not (tmp_path / "o").exists()


def _nothing_written(out: Path) -> None:
    assert not out.exists() or not any(out.iterdir()), list(out.iterdir())


def test_prompt_of_1001_characters_is_refused(tmp_path):
    out = tmp_path / "o"
    r = preflight(
        "fix",
        one_shot(12),
        "-o",
        out,
        "--profile",
        small_profile(tmp_path),
        "--quiet",
        "--service",
        "runway",
        "--prompt",
        "x" * 1001,
    )
    one_line_error(r, 2, "runway", "1001 characters", "1-1000")
    _nothing_written(out)


def test_six_anchors_in_one_segment_are_refused(tmp_path):
    out = tmp_path / "o"
    img = image(tmp_path, "a.png", (10, 20, 30))
    args = [a for t in ("1", "2", "3", "4", "5", "6") for a in ("--anchor", f"{t}={img}")]
    r = preflight(
        "fix",
        one_shot(12),
        "-o",
        out,
        "--profile",
        small_profile(tmp_path),
        "--quiet",
        "--preset",
        "ultrafast",
        "--service",
        "runway",
        "--prompt",
        "p",
        *args,
    )
    one_line_error(r, 2, "runway", "6 anchor images", "at most 5")
    _nothing_written(out)


def test_timestamp_past_30s_is_refused(tmp_path):
    out = tmp_path / "o"
    img = image(tmp_path, "a.png", (10, 20, 30))
    r = preflight(
        "fix",
        one_shot(40),
        "-o",
        out,
        "--profile",
        small_profile(tmp_path, max_s=60),
        "--quiet",
        "--preset",
        "ultrafast",
        "--service",
        "runware",
        "--prompt",
        "p",
        "--anchor",
        f"35={img}",
    )
    one_line_error(r, 2, "runware", "35.00 s", "[0, 30]")
    _nothing_written(out)


def test_dry_run_refuses_too_long_video_for_cloudflare(tmp_path):
    r = preflight(
        "fix",
        one_shot(40),
        "-o",
        tmp_path / "o",
        "--profile",
        small_profile(tmp_path, max_s=60),
        "--quiet",
        "--dry-run",
        "--service",
        "cloudflare",
        "--prompt",
        "p",
    )
    one_line_error(r, 2, "cloudflare", "40.00 s", "up to 30 s")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--service", "nope", "--prompt", "p"], ["unknown service", "runway"]),
        (["--service", "runway"], ["--prompt"]),
        (["--prompt", "p"], ["--service"]),
        (
            ["--service", "runway", "--prompt", "p", "--video-url", "http://x/{file}"],
            ["--video-url", "https"],
        ),
    ],
)
def test_bad_request_options(tmp_path, args, needles):
    r = preflight("fix", one_shot(12), "-o", tmp_path / "o", "--quiet", *args)
    one_line_error(r, 2, *needles)


# --------------------------------------------------------------------------- pure builders


def _segment(anchors=(), size=(848, 480), duration=30.0) -> SegmentInput:
    return SegmentInput(
        index=2,
        file="clip_seg02.mp4",
        duration_s=duration,
        width=size[0],
        height=size[1],
        anchors=tuple(anchors),
    )


def test_template_references_video_and_images():
    a = SegmentAnchor("35=/tmp/x/brand logo.png", "time", 5.0, "/tmp/x/brand logo.png")
    reqs = build_requests(
        [SERVICES["runway"], SERVICES["runware-gen4"]],
        prompt="p",
        segments=[_segment([a])],
        template="https://cdn.example/up/{file}",
        directory=None,
        task_uuid=lambda: "0f8fad5b-d9cb-469f-a165-70867728950e",
    )
    runway, gen4 = (r.body for r in reqs)
    assert runway["videoUri"] == "https://cdn.example/up/clip_seg02.mp4"
    assert runway["keyframes"] == [{"uri": "https://cdn.example/up/brand%20logo.png", "seconds": 5.0}]
    assert gen4[0]["inputs"]["referenceImages"] == ["https://cdn.example/up/brand%20logo.png"]


def test_gen4_size_and_reference_limits():
    a = SegmentAnchor("1=a.png", "time", 1.0, "a.png")
    b = SegmentAnchor("2=b.png", "time", 2.0, "b.png")
    uri = PLACEHOLDER.format
    with pytest.raises(UsageError, match=r"runway-gen4: segment 2 .* is 854x480; runway-gen4 takes only"):
        build_body(
            SERVICES["runway-gen4"],
            prompt="p",
            segment=_segment(size=(854, 480)),
            uri_for=lambda f: uri(file=f),
            task_uuid="",
        )
    with pytest.raises(UsageError, match=r"cometapi: segment 2 .* 2 anchor images; .* at most 1 reference"):
        build_body(
            SERVICES["cometapi"],
            prompt="p",
            segment=_segment([a, b]),
            uri_for=lambda f: uri(file=f),
            task_uuid="",
        )


def test_schema_rejects_what_the_table_forbids():
    body = {"model": "gen4_aleph", "videoUri": "https://x/a.mp4", "promptText": "p", "ratio": "854:480"}
    with pytest.raises(UsageError, match="runway-gen4: request body breaks its schema at ratio"):
        validate_body(SERVICES["runway-gen4"], body)
    with pytest.raises(UsageError, match="runway: request body breaks its schema"):
        validate_body(SERVICES["runway"], {"model": "aleph2", "videoUri": "ftp://x", "promptText": "p"})


def test_video_url_template_rules():
    assert parse_video_url("https://b.example/{file}") == "https://b.example/{file}"
    for bad in [
        "https://b.example/x.mp4",
        "https://b.example/{name}",
        "https://b.example/{file",
        "{file}",
        "http://b.example/{file}",
        "https:///{file}",
    ]:
        with pytest.raises(UsageError, match="--video-url"):
            parse_video_url(bad)


# --------------------------------------------------------------------------- issue 11's table, literally

ISSUE_TABLE = {  # service: (model, body keys, where anchors go)
    "runway": ("aleph2", {"model", "videoUri", "promptText", "keyframes"}, "keyframes"),
    "runway-gen4": ("gen4_aleph", {"model", "videoUri", "promptText", "ratio", "references"}, "references"),
    "runware": ("runway:aleph@2.0", {"video", "frameImages"}, "frameImages"),
    "runware-gen4": ("runway:2@1", {"video", "referenceImages"}, "referenceImages"),
    "cloudflare": ("runwayml/aleph-2", {"video_uri", "prompt", "keyframes"}, "keyframes"),
    "cometapi": ("gen4_aleph", {"model", "videoUri", "promptText", "ratio", "references"}, "references"),
}


def test_bodies_have_the_issue_tables_models_and_field_names(fixed):
    import uuid

    out, _, _ = fixed
    assert "X-Runway-Version: 2024-11-06" in SERVICES["runway"].what
    assert "POST /runwayml/v1/video_to_video" in SERVICES["cometapi"].what
    uuids = []
    for name, (model, keys, anchors) in ISSUE_TABLE.items():
        assert SERVICES[name].model == model
        b = body(out, 2, name)  # segment 2: one anchor image, at 5.00 s
        if name.startswith("runware"):
            (task,) = b
            assert task["taskType"] == "videoInference" and task["model"] == model
            assert task["positivePrompt"] == "make the sky purple" and set(task["inputs"]) == keys
            assert ({"width", "height"} <= set(task)) == (name == "runware-gen4")
            assert uuid.UUID(task["taskUUID"]).version == 4
            uuids.append(task["taskUUID"])
            items = task["inputs"][anchors]
        elif name == "cloudflare":
            assert set(b) == {"model", "input"} and b["model"] == model and set(b["input"]) == keys
            assert b["input"]["prompt"] == "make the sky purple"
            items = b["input"][anchors]
        else:
            assert set(b) == keys and b["model"] == model and b["promptText"] == "make the sky purple"
            items = b[anchors]
        assert len(items) == 1
        if anchors == "keyframes":
            assert set(items[0]) == {"uri", "seconds"} and items[0]["seconds"] == 5.0
        elif anchors == "references":
            assert set(items[0]) == {"type", "uri"} and items[0]["type"] == "image"
        elif anchors == "frameImages":
            assert set(items[0]) == {"image", "timestamp"}
        else:
            assert isinstance(items[0], str)
    all_uuids = [body(out, s, n)[0]["taskUUID"] for s in (1, 2, 3) for n in ("runware", "runware-gen4")]
    assert len(set(all_uuids)) == 6 and set(uuids) <= set(all_uuids)


def test_data_uri_limits_runway_16_mb_video_and_5_mb_image(tmp_path):
    from preflight.services.requests import data_uri_size, uri_resolver

    runway = SERVICES["runway"]
    uri_for = uri_resolver(runway, template=None, directory=tmp_path)
    limit = 16 * 1024 * 1024
    near = range(limit * 3 // 4 - 64, limit * 3 // 4 + 1)
    n = max(k for k in near if data_uri_size(k, "video/mp4") <= limit)
    assert data_uri_size(n + 1, "video/mp4") > limit
    sizes = {"fits.mp4": n, "big.mp4": n + 1, "small.png": 1000, "big.png": 5 * 1024 * 1024}
    for name, size in sizes.items():
        with open(tmp_path / name, "wb") as f:
            f.truncate(size)
    fits = uri_for("fits.mp4")
    assert fits.startswith("data:video/mp4;base64,") and len(fits) == data_uri_size(n, "video/mp4") <= limit
    big_mp4 = uri_for("big.mp4")
    assert big_mp4 == PLACEHOLDER.format(file="big.mp4"), big_mp4[:40]
    assert uri_for(str(tmp_path / "small.png")).startswith("data:image/png;base64,")
    # Runway documents 5 MB for an image as a data URI (16 MB is for video)
    big_png = uri_for(str(tmp_path / "big.png"))
    assert big_png == PLACEHOLDER.format(file="big.png"), big_png[:40]
    runware = uri_resolver(SERVICES["runware"], template=None, directory=tmp_path)
    assert runware("fits.mp4").startswith("<UPLOAD")  # documents no data URI


def test_fix_validates_every_body_against_its_schema_before_writing(tmp_path, monkeypatch):
    """The shipped schema is what ``fix`` checks: a stricter one (prompt <= 3 characters) refuses."""
    import jsonschema

    from preflight.services import bodies

    strict = json.loads(json.dumps(schema_for(SERVICES["runway"])))
    strict["properties"]["promptText"]["maxLength"] = 3
    real = bodies._validator
    def validator(name: str):
        return jsonschema.Draft202012Validator(strict) if name == "runway" else real(name)

    monkeypatch.setattr(bodies, "_validator", validator)
    out = tmp_path / "o"
    prof = small_profile(tmp_path)
    r = preflight("fix", one_shot(12), "-o", out, "--profile", prof, "--quiet", "--preset", "ultrafast",
                  "--service", "runway", "--prompt", "four")
    one_line_error(r, 2, "runway: request body breaks its schema at promptText")
    _nothing_written(out)
