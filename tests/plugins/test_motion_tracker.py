"""motion-tracker on synthetic scenes with ground truth, scored with py-motmetrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from forgesyte_dev.motscore import score
from forgesyte_dev.synthetic import COLOUR_SCENES, START_SCENES, crossing_scene, still_start_scene
from forgesyte_motion_tracker.background import Background, Planes, noise_sigma
from forgesyte_motion_tracker.detector import MotionDetector, MotionOptions
from forgesyte_motion_tracker.plugin import Plugin
from forgesyte_tracking import ByteTracker, track_video
from tests.media_factory import H264, ffmpeg, needs_ffmpeg

pytestmark = pytest.mark.slow  # one of the files make test starts first

# The demo's scene starts empty; make bench measures it against MOTA 0.90 / IDF1 0.85, and this
# floor guards against regressions without re-running the benchmark.
MOTA_FLOOR, IDF1_FLOOR = 0.85, 0.80
# Scenes already under way in the first frame (issue 9's floor, on the mean over the scenes).
START_MOTA, START_IDF1 = 0.90, 0.85


def tracked(video: Path, options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    result = Plugin().run_tool("video_track", {"video_path": str(video), "options": options or {}})
    return list(result["frames"])


def test_scenes_under_way_in_the_first_frame_meet_the_floor(tmp_path: Path) -> None:
    """Objects present from frame 0 among static clutter, noise and drifting light; objects that touch,
    cross and stand still before leaving."""
    scores = {}
    for name, make in START_SCENES.items():
        video = tmp_path / f"{name}.mp4"
        truth = make().write(video)
        scores[name] = score(truth, tracked(video))
    mota = float(np.mean([s["mota"] for s in scores.values()]))
    idf1 = float(np.mean([s["idf1"] for s in scores.values()]))
    assert mota >= START_MOTA, scores
    assert idf1 >= START_IDF1, scores
    for name, metrics in scores.items():  # no scene carried by the others
        assert metrics["mota"] >= 0.8, (name, metrics)


def test_objects_as_bright_as_the_ground_are_tracked_by_their_colour(tmp_path: Path) -> None:
    """Issue 18: a red car on grey asphalt, a grey thing on grass. Brightness alone finds nothing here,
    which shows the scenes test colour; with colour each scene meets the tracking bar."""
    for name, make in COLOUR_SCENES.items():
        video = tmp_path / f"{name}.mp4"
        truth = make().write(video)
        metrics = score(truth, tracked(video))
        assert metrics["mota"] >= START_MOTA, (name, metrics)
        assert metrics["idf1"] >= START_IDF1, (name, metrics)
        brightness_only = score(truth, tracked(video, {"colour": False}))
        assert brightness_only["recall"] < 0.1, (name, brightness_only)


# ffmpeg's busy patterns: testsrc2 at 5 fps changed everywhere between frames and once grew the
# tracks without bound (a 764 MiB IoU matrix after 800 frames); noise; the light flashing each frame.
BUSY = {
    "testsrc2": ("testsrc2=size=320x240:rate=5", 90),  # tracks bred from about frame 340 on
    "noise": ("color=c=gray:s=320x240:r=5,noise=alls=100:allf=t", 20),
    "flashing": ("nullsrc=s=320x240:r=5,geq=lum='if(mod(N\\,2)\\,230\\,20)':cb=128:cr=128", 20),
}


@needs_ffmpeg
@pytest.mark.parametrize("pattern", BUSY)
def test_busy_footage_keeps_the_work_per_frame_bounded(tmp_path: Path, pattern: str) -> None:
    source, seconds = BUSY[pattern]
    video = ffmpeg(tmp_path / f"{pattern}.mp4", "-f", "lavfi", "-i", source, "-t", str(seconds), *H264)
    options = MotionOptions()
    tracker = ByteTracker()
    detector = MotionDetector(options, expected=tracker.expected_boxes)
    detections: list[int] = []

    def counted(frames: Any, fps: float) -> Any:
        for found in detector.stream(frames, fps):
            detections.append(len(found[0]))
            yield found

    tracks: list[int] = []
    for _ in track_video(str(video), counted, ["motion"], tracker=tracker)["frames"]:
        tracks.append(len(tracker.tracks))
    assert len(tracks) == 5 * seconds
    assert max(detections) <= options.max_detections
    half = len(tracks) // 2
    assert max(tracks[half:]) <= 1.5 * max(tracks[:half]) + 20, tracks  # no growth with the video's length
    assert max(tracks) <= 200, max(tracks)  # well under the tracker's cap: the cap is a last resort
    if pattern != "testsrc2":  # nothing moves there: noise is measured, the flashing is light
        assert sum(detections) == 0, detections


def test_a_cut_to_another_scene_restarts_the_background_without_a_burst_of_tracks(tmp_path: Path) -> None:
    first, second = crossing_scene(seconds=4), COLOUR_SCENES["grass"](seconds=4)  # grey ramp, then grass
    video = tmp_path / "cut.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"mp4v"), 30.0, (640, 360))
    for scene in (first, second):
        for frame, _ in scene.render():
            writer.write(frame)
    writer.release()
    frames = tracked(video, {"background_seconds": 2.0})
    assert len(frames) == 240
    after_cut = [len(f["detections"]["tracked_objects"]) for f in frames[120:]]
    assert max(after_cut) <= 4, after_cut  # the second scene's own objects at most, no ghost of the first
    assert sum(after_cut) >= 0.8 * 4 * 120, after_cut  # and they are tracked again


def test_objects_standing_still_at_the_start_leave_no_ghost_behind(tmp_path: Path) -> None:
    scene = still_start_scene()
    video = tmp_path / "still.mp4"
    scene.write(video)
    frames = tracked(video)
    late = range(int(3 * scene.fps), scene.frames)  # every mover has left its starting place by then
    for mover in scene.movers[:3]:
        x, y = mover.keyframes[0][1:]
        for index in late:
            for obj in frames[index]["detections"]["tracked_objects"]:
                x1, y1, x2, y2 = obj["xyxy"]
                assert not (x1 <= x <= x2 and y1 <= y <= y2), (mover.object_id, index, obj)


def test_the_background_follows_the_light_and_measures_the_noise() -> None:
    rng = np.random.default_rng(3)
    scene = rng.uniform(40, 200, (90, 160)).astype(np.float32)
    frames = [Planes(scene + rng.normal(0, 2.0, scene.shape).astype(np.float32)) for _ in range(10)]
    (sigma,) = noise_sigma(frames)
    assert 1.6 <= sigma <= 2.4
    background = Background(frames, [sigma], (6.0,), learning_rate=0.02, foreground_rate=0)
    dimmed = 0.7 * frames[0].luma + 15  # the exposure changes: nothing moved
    assert background.foreground(Planes(dimmed)).mean() < 0.01 * 255
    moved = dimmed.copy()
    moved[30:50, 60:90] = 0.7 * 250 + 15  # now something is there
    mask = background.foreground(Planes(moved))
    assert mask[30:50, 60:90].mean() > 0.9 * 255
    assert mask.mean() < 0.05 * 255


def test_colour_is_seen_where_brightness_matches_and_exposure_changes_are_not() -> None:
    """Luma plus chroma at half the size each way (Cr above Cb, centred on 128): a patch as bright as
    the ground but of another hue is foreground; the whole frame brightening by a gain and an offset
    (chroma scaling by a gain about grey) is not."""
    rng = np.random.default_rng(5)
    luma = rng.uniform(90, 130, (90, 160))
    chroma = np.vstack([np.full((45, 80), 108.0), np.full((45, 80), 143.0)])  # a green ground
    frames = [
        Planes(*(np.asarray(p + rng.normal(0, 1.5, p.shape), np.float32) for p in (luma, chroma))) for _ in range(10)
    ]
    noise = noise_sigma(frames)
    assert len(noise) == 2
    assert all(1.2 <= n <= 1.8 for n in noise), noise
    background = Background(frames, noise, (12.0, 10.0), learning_rate=0.02, foreground_rate=0)
    brighter = Planes(frames[0].luma * np.float32(1.2) + 10, (frames[0].chroma - 128) * np.float32(1.2) + 128)
    assert background.foreground(brighter).mean() < 0.01 * 255
    coloured = frames[1].chroma.copy()
    coloured[15:25, 30:45] = 168.0  # same luma, red instead of green: Cr up
    coloured[45 + 15 : 45 + 25, 0:15] = 98.0  # elsewhere, Cb down
    mask = background.foreground(Planes(frames[1].luma, coloured))
    assert mask.shape == (90, 160)
    assert mask[30:50, 60:90].mean() > 0.9 * 255  # either chroma channel counts
    assert mask[30:50, 0:30].mean() > 0.9 * 255
    assert mask.mean() < 0.1 * 255


def test_a_frame_that_changes_everywhere_is_a_new_scene_not_foreground() -> None:
    rng = np.random.default_rng(9)
    frames = [Planes(rng.uniform(40, 200, (90, 160)).astype(np.float32))] * 5
    background = Background(frames, [1.0], (12.0,), learning_rate=0.02, foreground_rate=0, scene_change=0.6)
    assert background.foreground(frames[0]).max() == 0
    assert not background.scene_changed
    cut = rng.uniform(40, 200, (90, 160)).astype(np.float32)  # another scene: a cut, or the camera turned
    assert background.foreground(Planes(cut)).max() == 0  # not thousands of blobs
    assert background.scene_changed
    background.restart(Planes(cut))
    moved = cut.copy()
    moved[10:30, 10:40] = 255.0
    assert background.foreground(Planes(moved))[10:30, 10:40].mean() > 0.9 * 255  # the new scene is the model now
    assert not background.scene_changed


def test_tracking_quality_on_the_demo_scene_crossing_stopping_and_hidden_objects(tmp_path: Path) -> None:
    video = tmp_path / "scene.mp4"
    truth = crossing_scene(seconds=8).write(video)
    progress: list[tuple[int, int]] = []
    result = Plugin().run_tool(
        "video_track",
        {"video_path": str(video), "options": {}, "progress_callback": lambda c, t: progress.append((c, t))},
    )
    frames = list(result["frames"])
    assert result["total_frames"] == len(frames) == 240
    metrics = score(truth, frames)
    assert metrics["mota"] >= MOTA_FLOOR, metrics
    assert metrics["idf1"] >= IDF1_FLOOR, metrics
    assert progress[-1] == (240, 240)
    sample = next(o for f in frames for o in f["detections"]["tracked_objects"])
    assert set(sample) == {"track_id", "class_id", "class", "confidence", "xyxy", "center"}
    assert sample["class"] == "motion"
    assert 0.5 <= sample["confidence"] <= 1.0


def test_results_are_generated_lazily(tmp_path: Path) -> None:
    video = tmp_path / "scene.mp4"
    crossing_scene(seconds=1).write(video)
    result = Plugin().run_tool("video_track", {"video_path": str(video), "options": {}})
    assert not isinstance(result["frames"], list)
    assert next(iter(result["frames"]))["frame_index"] == 0


def test_options_are_validated() -> None:
    assert MotionOptions.from_options({"background_samples": "20", "unknown": 1}).background_samples == 20
    with pytest.raises(ValueError, match="option 'work_width' must be a int"):
        MotionOptions.from_options({"work_width": "wide"})
    with pytest.raises(ValueError, match="option 'colour' must be a bool"):
        MotionOptions.from_options({"colour": "no"})
    assert MotionOptions.from_options({"colour": False}).colour is False
    with pytest.raises(ValueError, match=r"option 'learning_rate' is out of range: 1\.5"):
        MotionOptions.from_options({"learning_rate": 1.5})
    with pytest.raises(ValueError, match="Unknown tool: detect"):
        Plugin().run_tool("detect", {"image_bytes": b""})


def test_a_segmented_run_keeps_the_unsplit_runs_tracking_quality(tmp_path: Path) -> None:
    """Issue 16's bar on the demo scene cut twice: IDF1 ≥ 0.98 × unsplit, MOTA within 0.01, at most one
    more id switch. Segments are 8 s here; each learns its background from its own opening frames, so
    segments much shorter than the 10 s background span lose quality (see the issue's note)."""
    import json

    from forgesyte_dev.segmented import run_segmented

    video = tmp_path / "scene.mp4"
    truth = crossing_scene(seconds=20).write(video)
    whole = score(truth, tracked(video))
    manifest = json.loads(_manifest_path().read_text())
    tool = next(t for t in manifest["tools"] if t["id"] == "video_track")
    plugin = Plugin()
    run = run_segmented(video, tool, lambda args: plugin.run_tool("video_track", {**args, "options": {}}), 8.0)
    assert len(run.segments) == 3
    assert [f["frame_index"] for f in run.frames] == list(range(600))
    assert run.cuts_matched >= 4  # tracks carried across the two cuts
    split = score(truth, run.frames)
    assert split["idf1"] >= 0.98 * whole["idf1"], (split, whole)
    assert split["mota"] >= whole["mota"] - 0.01, (split, whole)
    assert split["num_switches"] <= whole["num_switches"] + 1, (split, whole)
    middle = run.bytes_read[1] / run.file_bytes
    assert middle < 0.7, run.bytes_read  # its third of the frames, the lead-in (2 s here), the moov


def _manifest_path() -> Path:
    import forgesyte_motion_tracker

    return Path(forgesyte_motion_tracker.__file__).with_name("manifest.json")
