import { describe, expect, it, vi } from "vitest";

import { ApiError, ForgeSyteClient } from "../src/client.js";
import { pendingUpload, type ResumeStore, uploadMultipart } from "../src/multipart.js";
import { FakeServer } from "./fake-server.js";

function client(server: FakeServer, extra: Record<string, unknown> = {}): ForgeSyteClient {
  return new ForgeSyteClient({
    baseUrl: "https://api.test/prod/",
    apiKey: "key-1",
    fetch: server.fetch as typeof fetch,
    transport: server.transport,
    multipartThreshold: 12,
    ...extra,
  });
}

class MemoryStore implements ResumeStore {
  items = new Map<string, string>();
  getItem = (key: string): string | null => this.items.get(key) ?? null;
  setItem = (key: string, value: string): void => void this.items.set(key, value);
  removeItem = (key: string): void => void this.items.delete(key);
}

const file = (size: number, name = "clip.mp4"): File => new File([new Uint8Array(size)], name, { type: "video/mp4", lastModified: 1 });

describe("ForgeSyteClient", () => {
  it("lists plugins from the API's {plugins} and sends the key", async () => {
    const server = new FakeServer();
    expect((await client(server).getPlugins()).map((p) => p.id)).toEqual(["motion-tracker"]);
    expect(server.calls[0]).toMatchObject({ url: "/v1/plugins", headers: { "X-API-Key": "key-1" } });
  });

  it("sends a Cognito token in Authorization when given one", async () => {
    const server = new FakeServer();
    await client(server, { apiKey: undefined, token: "id-token" }).getPlugins();
    expect(server.calls[0]?.headers).toEqual({ Authorization: "id-token" });
  });

  it("errors carry the server's detail", async () => {
    const server = new FakeServer();
    const error = await client(server).submitVideo(file(4), "nope", "video_track").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, detail: "Plugin 'nope' not found" });
  });

  it("uploads a small video with the presigned POST, file last, progress to 100%", async () => {
    const server = new FakeServer();
    const progress: number[] = [];
    const submitted = await client(server).submitVideo(file(10), "motion-tracker", "video_track", (sent, total) =>
      progress.push(sent / total),
    );
    expect(submitted).toEqual({ job_id: "job-1", status: "pending" });
    expect(server.calls[0]?.body).toMatchObject({ plugin_id: "motion-tracker", content_type: "video/mp4", content_length: 10 });
    expect(server.formFields).toEqual(["key", "policy", "file"]);
    expect(progress.at(-1)).toBe(1);
  });

  it("uploads a large video in parts, a few at once, retrying a part that failed", async () => {
    const server = new FakeServer();
    server.failPartOnce.add(3);
    const progress: number[] = [];
    await client(server, { multipartConcurrency: 2 }).submitVideo(file(23), "motion-tracker", "video_track", (s) =>
      progress.push(s),
    );
    expect(server.maxInFlight).toBe(2);
    expect([...server.parts.keys()].sort()).toEqual([1, 2, 3, 4, 5]);
    const signed = server.calls.filter((c) => /\/multipart\/up-1\/\d+$/.test(c.url)).map((c) => c.url.split("/").pop());
    expect(signed.filter((n) => n === "3")).toHaveLength(2); // signed again for the retry
    const complete = server.calls.find((c) => c.url.endsWith("/complete"));
    expect(complete?.body).toEqual({ parts: [1, 2, 3, 4, 5].map((n) => ({ PartNumber: n, ETag: `"etag-${n}"` })) });
    expect(progress.at(-1)).toBe(23);
  });

  it("resumes after a reload from the parts S3 already holds", async () => {
    const server = new FakeServer();
    const store = new MemoryStore();
    const api = client(server, { store }).multipart;
    // The first page load: parts 1 and 2 go, then the connection drops for good.
    server.failPartOnce.add(3);
    const first = uploadMultipart(api, server.transport, "job-1", file(23), { store, concurrency: 1, retries: 0 });
    await expect(first).rejects.toThrow("network error");
    expect(pendingUpload(store, "job-1")?.uploadId).toBe("up-1");
    expect([...server.parts.keys()]).toEqual([1, 2]);

    // The reloaded page, the same job and file: only the missing parts go, into the same upload.
    server.calls = [];
    await uploadMultipart(api, server.transport, "job-1", file(23), { store });
    const signed = server.calls.filter((c) => /\/multipart\/up-1\/\d+$/.test(c.url)).map((c) => Number(c.url.split("/").pop()));
    expect(signed.sort()).toEqual([3, 4, 5]);
    expect(server.calls.some((c) => c.method === "POST" && c.url.endsWith("/multipart"))).toBe(false);
    expect(pendingUpload(store, "job-1")).toBeNull();
  });

  it("starts afresh when the file is not the one the interrupted upload was for", async () => {
    const server = new FakeServer();
    const store = new MemoryStore();
    const api = client(server, { store }).multipart;
    server.failPartOnce.add(2);
    await expect(uploadMultipart(api, server.transport, "job-1", file(23), { store, concurrency: 1, retries: 0 })).rejects.toThrow();
    server.calls = [];
    await uploadMultipart(api, server.transport, "job-1", file(23, "other.mp4"), { store });
    expect(server.calls.filter((c) => c.method === "POST" && c.url.endsWith("/multipart"))).toHaveLength(1);
  });

  it("polls with backoff and stops on every terminal status, cancelled included", async () => {
    const server = new FakeServer();
    const api = client(server);
    const { job_id } = await api.analyzeImage(new File([new Uint8Array(3)], "a.png", { type: "image/png" }), "rapidocr");
    vi.useFakeTimers();
    try {
      server.statuses = ["queued", "running", "running", "cancelled"];
      const seen: string[] = [];
      const polling = api.pollJob(job_id, 60_000, 100, (job) => seen.push(job.status));
      await vi.runAllTimersAsync();
      const job = await polling;
      expect(job.status).toBe("cancelled");
      expect(seen).toEqual(["queued", "running", "running", "cancelled"]);
    } finally {
      vi.useRealTimers();
    }
  });
});
