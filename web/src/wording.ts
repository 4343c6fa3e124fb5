/** What the page says about a job, in words: its state while it goes on, its results when done. */

import type { Job } from "./types.js";

const plural = (count: number, one: string, many = `${one}s`): string =>
  `${count.toLocaleString("en")} ${count === 1 ? one : many}`;

/** A short id (as the command line prints it, and accepts). */
export const shortId = (jobId: string): string => jobId.slice(0, 8);

/** The job's state while the page waits for it. */
export function statusWords(job: Pick<Job, "job_id" | "status" | "progress" | "compute">): string {
  const id = shortId(job.job_id);
  switch (job.status) {
    case "pending":
      return `Uploaded. Job ${id} is being validated…`;
    case "queued":
      return `Job ${id} is valid and waits for a runner…`;
    case "running":
      return `Job ${id} is running${job.compute ? ` on ${job.compute}` : ""}: ${job.progress}%`;
    default:
      return `Job ${id} is ${job.status}.`;
  }
}

/** "300 frames, 783 detections in 5 tracks (motion) · 2.3 s on lambda": the summary as a sentence. */
export function resultWords(job: Pick<Job, "job_type" | "summary" | "compute">): string {
  const summary = (job.summary ?? {}) as Record<string, unknown>;
  const count = (key: string): number | null => (typeof summary[key] === "number" ? (summary[key] as number) : null);
  const parts: string[] = [];
  const frames = count("frames_decoded") ?? count("frame_count");
  if (job.job_type === "video" && frames !== null) parts.push(plural(frames, "frame"));
  const detections = count("detection_count");
  const tracks = count("track_count");
  const classes = Array.isArray(summary.classes) ? (summary.classes as unknown[]).map(String) : [];
  if (detections !== null) {
    const kinds = classes.length ? ` (${classes.slice(0, 5).join(", ")}${classes.length > 5 ? "…" : ""})` : "";
    parts.push(plural(detections, "detection") + (tracks !== null ? ` in ${plural(tracks, "track")}` : "") + kinds);
  }
  const seconds = count("run_seconds");
  const took = seconds !== null ? `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s` : "";
  const where = [took, job.compute ? `on ${job.compute}` : ""].filter(Boolean).join(" ");
  return `${parts.join(", ") || "no results counted"}${where ? ` · ${where}` : ""}`;
}
