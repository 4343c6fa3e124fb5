/** An in-memory job API and S3 for the client's unit tests: it records every request it answers. */

import type { Sent, Transport } from "../src/transport.js";
import type { Job, JobStatus } from "../src/types.js";

export interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

export class FakeServer {
  calls: Call[] = [];
  jobs = new Map<string, Job>();
  parts = new Map<number, { etag: string; size: number }>();
  formFields: string[] = [];
  failPartOnce = new Set<number>();
  inFlight = 0;
  maxInFlight = 0;
  statuses: JobStatus[] = [];
  private nextJob = 1;

  fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const method = init.method ?? "GET";
    const body = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
    const path = url.pathname.replace(/^\/prod/, ""); // the API's stage
    this.calls.push({ method, url: path + url.search, headers: { ...(init.headers as Record<string, string>) }, body });
    const json = (status: number, data: unknown): Response =>
      new Response(JSON.stringify(data), { status, headers: { "Content-Type": "application/json" } });
    if (path === "/v1/plugins") return json(200, { plugins: [{ id: "motion-tracker", tools: ["video_track"] }] });
    if (path.endsWith("/submit")) {
      if (body.plugin_id === "nope") return json(400, { detail: "Plugin 'nope' not found" });
      const jobId = `job-${this.nextJob++}`;
      this.jobs.set(jobId, { job_id: jobId, status: "pending", progress: 0 } as Job);
      return json(201, {
        job_id: jobId,
        status: "pending",
        replayed: false,
        upload: { url: "https://s3.test/bucket", fields: { key: `uploads/${jobId}/input`, policy: "p" }, max_bytes: 1 },
      });
    }
    const multipart = /^\/v1\/jobs\/([^/]+)\/multipart(?:\/([^/]+)(?:\/([^/]+))?)?$/.exec(path);
    if (multipart) {
      const [, , uploadId, tail] = multipart;
      if (!uploadId) return json(201, { uploadId: "up-1", key: "k", part_bytes: 5, parts: 5 });
      if (tail === "complete") return json(200, { location: "s3://bucket/k" });
      if (tail === "abort") return json(200, { aborted: uploadId });
      if (tail) return json(200, { url: `https://s3.test/part/${tail}` });
      return json(200, {
        parts: [...this.parts].map(([n, p]) => ({ PartNumber: n, ETag: p.etag, Size: p.size })),
      });
    }
    const jobMatch = /^\/v1\/jobs\/([^/]+)(\/cancel)?$/.exec(path);
    if (jobMatch?.[1]) {
      const job = this.jobs.get(jobMatch[1]);
      if (!job) return json(404, { detail: `Job ${jobMatch[1]} not found` });
      if (jobMatch[2]) job.status = "cancelled";
      else if (this.statuses.length) job.status = this.statuses.shift() as JobStatus;
      return json(200, job);
    }
    return json(404, { detail: "no route" });
  };

  transport: Transport = {
    send: async (method, url, body, onProgress): Promise<Sent> => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, 2));
        const size = body instanceof Blob ? body.size : 0;
        onProgress(Math.floor(size / 2));
        const part = /\/part\/(\d+)$/.exec(url);
        if (method === "PUT" && part?.[1]) {
          const n = Number(part[1]);
          if (this.failPartOnce.delete(n)) throw new TypeError("network error sending to s3.test");
          this.parts.set(n, { etag: `"etag-${n}"`, size });
          onProgress(size);
          return { status: 200, text: "", header: (name) => (name === "ETag" ? `"etag-${n}"` : null) };
        }
        if (body instanceof FormData) this.formFields = [...body.keys()];
        return { status: 204, text: "", header: () => null };
      } finally {
        this.inFlight--;
      }
    },
  };
}
