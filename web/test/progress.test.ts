import { describe, expect, it } from "vitest";

import { jobProgressText } from "../src/progress.js";

describe("jobProgressText", () => {
  it("says status and percent for a job run whole", () => {
    expect(jobProgressText({ status: "running", progress: 40, segments: null })).toBe("running · 40%");
  });

  it("counts a segmented run's segments while it runs", () => {
    const segments = { total: 60, queued: 10, running: 20, done: 30 };
    expect(jobProgressText({ status: "running", progress: 52, segments })).toBe(
      "running · 52% · segments 30/60 done, 20 running",
    );
    expect(jobProgressText({ status: "completed", progress: 100, segments })).toBe("completed · 100%");
  });
});
