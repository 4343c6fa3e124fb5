import { describe, expect, it } from "vitest";
import { resultWords, shortId, statusWords } from "../src/wording.js";

const job = { job_id: "0f1e2d3c-aaaa-4bbb-8ccc-000000000000", progress: 45, compute: "lambda" } as const;

describe("the page's words for a job", () => {
  it("says what the job is doing while it goes on", () => {
    expect(statusWords({ ...job, status: "pending" })).toBe("Uploaded. Job 0f1e2d3c is being validated…");
    expect(statusWords({ ...job, status: "queued" })).toBe("Job 0f1e2d3c is valid and waits for a runner…");
    expect(statusWords({ ...job, status: "running" })).toBe("Job 0f1e2d3c is running on lambda: 45%");
  });

  it("says a video's results in words, not JSON", () => {
    const summary = { frame_count: 300, frames_decoded: 300, detection_count: 783, track_count: 5, classes: ["motion"], run_seconds: 2.26 };
    expect(resultWords({ job_type: "video", summary, compute: "lambda" })).toBe(
      "300 frames, 783 detections in 5 tracks (motion) · 2.3 s on lambda",
    );
  });

  it("counts an image's detections and says one in the singular", () => {
    const summary = { frame_count: 1, detection_count: 1, classes: [], run_seconds: 0.42 };
    expect(resultWords({ job_type: "image", summary, compute: "lambda" })).toBe("1 detection · 0.4 s on lambda");
    expect(resultWords({ job_type: "image", summary: null, compute: null })).toBe("no results counted");
  });

  it("shortens ids as the command line prints them", () => {
    expect(shortId(job.job_id)).toBe("0f1e2d3c");
  });
});
