/**
 * The ForgeSyte Serverless job API from a browser, with ForgeSyte's ApiClient method names, so the
 * ForgeSyte UI switches by changing an import. Files go straight to S3: a presigned POST form, or a
 * multipart upload above `multipartThreshold` (100 MiB). Errors are ApiError with the server's detail.
 */

import { ApiError, errorFrom } from "./errors.js";
import { type MultipartApi, type ResumeStore, uploadMultipart } from "./multipart.js";
import { type Transport, xhrTransport } from "./transport.js";
import {
  type Job,
  type JobStatus,
  type MultipartStart,
  type OnProgress,
  type Plugin,
  type PluginManifest,
  type Submitted,
  TERMINAL,
  type UploadedPart,
} from "./types.js";

export interface ClientOptions {
  /** The API's base URL, e.g. https://abc.execute-api.eu-west-1.amazonaws.com/prod (no /v1). */
  baseUrl: string;
  apiKey?: string;
  /** A Cognito ID token (or a function giving a fresh one), for stacks with Authorizer=CognitoAuthorizer. */
  token?: string | (() => Promise<string | undefined>);
  multipartThreshold?: number;
  multipartConcurrency?: number;
  transport?: Transport;
  fetch?: typeof fetch;
  store?: ResumeStore;
}

export interface SubmitResult {
  job_id: string;
  status: JobStatus;
}

const MiB = 1024 * 1024;
const CONTENT_TYPES: Record<string, string> = {
  mp4: "video/mp4",
  m4v: "video/mp4",
  mov: "video/quicktime",
  "3gp": "video/3gpp",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
};

export function contentTypeOf(file: File): string {
  const extension = file.name.split(".").pop()?.toLowerCase() ?? "";
  return file.type || CONTENT_TYPES[extension] || "application/octet-stream";
}

export class ForgeSyteClient {
  readonly multipartThreshold: number;
  private readonly base: string;
  private readonly transport: Transport;
  private readonly fetcher: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, "");
    this.multipartThreshold = options.multipartThreshold ?? 100 * MiB;
    this.transport = options.transport ?? xhrTransport;
    this.fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  async getPlugins(): Promise<Plugin[]> {
    return (await this.request<{ plugins: Plugin[] }>("GET", "/v1/plugins")).plugins;
  }

  getPluginManifest(pluginId: string): Promise<PluginManifest> {
    return this.request("GET", `/v1/plugins/${encodeURIComponent(pluginId)}/manifest`);
  }

  /** Submit an image job and upload the image; the job then runs on its own (see pollJob). */
  analyzeImage(
    file: File,
    pluginId: string,
    toolId = "analyze",
    options: Record<string, unknown> = {},
    onProgress?: OnProgress,
  ): Promise<SubmitResult> {
    return this.submit("image", file, pluginId, toolId, options, onProgress);
  }

  /** Submit a video job and upload the video (multipart when large), reporting upload progress. */
  submitVideo(
    file: File,
    pluginId: string,
    toolId: string,
    onProgress?: OnProgress,
    options: Record<string, unknown> = {},
  ): Promise<SubmitResult> {
    return this.submit("video", file, pluginId, toolId, options, onProgress);
  }

  getJob(jobId: string): Promise<Job> {
    return this.request("GET", `/v1/jobs/${encodeURIComponent(jobId)}`);
  }

  listJobs(limit = 20, status?: JobStatus, cursor?: string): Promise<{ jobs: Job[]; next_cursor: string | null }> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (status) query.set("status", status);
    if (cursor) query.set("cursor", cursor);
    return this.request("GET", `/v1/jobs?${query.toString()}`);
  }

  cancelJob(jobId: string): Promise<Job> {
    return this.request("POST", `/v1/jobs/${encodeURIComponent(jobId)}/cancel`);
  }

  /**
   * The job once it ends (completed, failed or cancelled), polling with backoff from `intervalMs`
   * up to 5 s; `onUpdate` sees every answer. Rejects after `timeoutMs`.
   */
  async pollJob(jobId: string, timeoutMs = 30 * 60_000, intervalMs = 500, onUpdate?: (job: Job) => void): Promise<Job> {
    const deadline = Date.now() + timeoutMs;
    let wait = intervalMs;
    for (;;) {
      const job = await this.getJob(jobId);
      onUpdate?.(job);
      if (TERMINAL.has(job.status)) return job;
      if (Date.now() + wait > deadline) throw new ApiError(0, `job ${jobId} is still ${job.status} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(5000, Math.round(wait * 1.5));
    }
  }

  /** The results document of a completed job. */
  async getResults(job: Job): Promise<Record<string, unknown>> {
    if (!job.result_url) throw new ApiError(409, `job ${job.job_id} is ${job.status}; results exist once it is completed`);
    const response = await this.fetcher(job.result_url);
    if (!response.ok) throw await errorFrom(response);
    return (await response.json()) as Record<string, unknown>;
  }

  readonly multipart: MultipartApi = {
    create: (jobId) => this.request<MultipartStart>("POST", `/v1/jobs/${encodeURIComponent(jobId)}/multipart`),
    sign: (jobId, uploadId, n) => this.request("GET", `${this.uploadPath(jobId, uploadId)}/${n}`),
    list: async (jobId, uploadId) =>
      (await this.request<{ parts: UploadedPart[] }>("GET", this.uploadPath(jobId, uploadId))).parts,
    complete: (jobId, uploadId, parts) => this.request("POST", `${this.uploadPath(jobId, uploadId)}/complete`, { parts }),
    abort: (jobId, uploadId) => this.request("POST", `${this.uploadPath(jobId, uploadId)}/abort`),
  };

  private uploadPath(jobId: string, uploadId: string): string {
    return `/v1/jobs/${encodeURIComponent(jobId)}/multipart/${encodeURIComponent(uploadId)}`;
  }

  private async submit(
    kind: "video" | "image",
    file: File,
    pluginId: string,
    toolId: string,
    options: Record<string, unknown>,
    onProgress?: OnProgress,
  ): Promise<SubmitResult> {
    const created = await this.request<Submitted>("POST", `/v1/${kind}/submit`, {
      plugin_id: pluginId,
      tool: toolId,
      content_type: contentTypeOf(file),
      content_length: file.size,
      options,
    });
    if (kind === "video" && file.size > this.multipartThreshold) {
      await uploadMultipart(this.multipart, this.transport, created.job_id, file, {
        onProgress,
        concurrency: this.options.multipartConcurrency ?? 4,
        store: this.options.store,
      });
    } else {
      await this.postForm(created, file, onProgress);
    }
    return { job_id: created.job_id, status: created.status };
  }

  /** The presigned POST: every field, then the file last, as S3 requires. */
  private async postForm(created: Submitted, file: File, onProgress?: OnProgress): Promise<void> {
    const form = new FormData();
    for (const [name, value] of Object.entries(created.upload.fields)) form.append(name, value);
    form.append("file", file);
    onProgress?.(0, file.size);
    const answer = await this.transport.send("POST", created.upload.url, form, (loaded) =>
      onProgress?.(Math.min(loaded, file.size), file.size),
    );
    if (answer.status >= 300) {
      const message = /<Message>([^<]*)<\/Message>/.exec(answer.text)?.[1] ?? answer.text.slice(0, 200);
      throw new ApiError(answer.status, `S3 refused the upload: ${message}`);
    }
    onProgress?.(file.size, file.size);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.options.apiKey) headers["X-API-Key"] = this.options.apiKey;
    const token = typeof this.options.token === "function" ? await this.options.token() : this.options.token;
    if (token) headers.Authorization = token;
    const response = await this.fetcher(`${this.base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw await errorFrom(response);
    return (await response.json()) as T;
  }
}

export { ApiError } from "./errors.js";
export type { Job, JobStatus, Plugin, PluginManifest } from "./types.js";
