import type { Job } from "./types.js";

/** The job's progress line: status and percent, and how its segments stand while a segmented run goes on. */
export function jobProgressText(job: Pick<Job, "status" | "progress" | "segments">): string {
  const base = `${job.status} · ${job.progress}%`;
  const segments = job.segments;
  if (!segments || job.status !== "running") return base;
  return `${base} · segments ${segments.done}/${segments.total} done, ${segments.running} running`;
}
