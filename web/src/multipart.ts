/**
 * Multipart upload of a large file straight to S3, the contract of Uppy's S3 multipart plugin:
 * create, sign each part, PUT it, list what S3 holds, complete. A few parts are in flight at once,
 * a failed part is signed again and retried with backoff, and a page reloaded mid-upload resumes
 * from the parts S3 already holds (the upload's id is kept in the ResumeStore, e.g. localStorage).
 */

import { ApiError } from "./errors.js";
import type { Transport } from "./transport.js";
import type { MultipartStart, OnProgress, UploadedPart } from "./types.js";

export interface MultipartApi {
  create(jobId: string): Promise<MultipartStart>;
  sign(jobId: string, uploadId: string, partNumber: number): Promise<{ url: string }>;
  list(jobId: string, uploadId: string): Promise<UploadedPart[]>;
  complete(jobId: string, uploadId: string, parts: UploadedPart[]): Promise<unknown>;
  abort(jobId: string, uploadId: string): Promise<unknown>;
}

/** Where an upload in progress is remembered across page loads. */
export interface ResumeStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface MultipartOptions {
  concurrency?: number;
  retries?: number;
  retryDelayMs?: number;
  onProgress?: OnProgress;
  store?: ResumeStore;
  signal?: AbortSignal;
}

interface Remembered extends MultipartStart {
  name: string;
  size: number;
  lastModified: number;
}

const resumeKey = (jobId: string): string => `forgesyte-multipart:${jobId}`;

/** The upload of ``file`` for ``jobId`` that a reload left unfinished, if there is one. */
export function pendingUpload(store: ResumeStore, jobId: string): Remembered | null {
  const text = store.getItem(resumeKey(jobId));
  return text ? (JSON.parse(text) as Remembered) : null;
}

export async function uploadMultipart(
  api: MultipartApi,
  transport: Transport,
  jobId: string,
  file: File,
  options: MultipartOptions = {},
): Promise<UploadedPart[]> {
  const { concurrency = 4, retries = 3, retryDelayMs = 500, onProgress, store, signal } = options;
  const remembered = store ? pendingUpload(store, jobId) : null;
  const sameFile = remembered?.name === file.name && remembered.size === file.size && remembered.lastModified === file.lastModified;
  const plan: MultipartStart = sameFile && remembered ? remembered : await api.create(jobId);
  store?.setItem(resumeKey(jobId), JSON.stringify({ ...plan, name: file.name, size: file.size, lastModified: file.lastModified }));

  const expected = (n: number): number => Math.min(plan.part_bytes, file.size - (n - 1) * plan.part_bytes);
  const done = new Map<number, UploadedPart>();
  if (sameFile) {
    for (const part of await api.list(jobId, plan.uploadId)) {
      if (part.Size === expected(part.PartNumber)) done.set(part.PartNumber, part);
    }
  }
  const sent = new Map<number, number>();
  for (const n of done.keys()) sent.set(n, expected(n));
  const report = (): void => onProgress?.([...sent.values()].reduce((a, b) => a + b, 0), file.size);
  report();

  const queue = Array.from({ length: plan.parts }, (_, i) => i + 1).filter((n) => !done.has(n));
  const sendPart = async (n: number): Promise<void> => {
    const body = file.slice((n - 1) * plan.part_bytes, n * plan.part_bytes);
    for (let attempt = 0; ; attempt++) {
      try {
        const { url } = await api.sign(jobId, plan.uploadId, n);
        const answer = await transport.send("PUT", url, body, (loaded) => {
          sent.set(n, loaded);
          report();
        }, signal);
        const etag = answer.header("ETag");
        if (answer.status >= 300 || !etag) throw new ApiError(answer.status, `S3 refused part ${n}: ${answer.text.slice(0, 200)}`);
        done.set(n, { PartNumber: n, ETag: etag });
        sent.set(n, body.size);
        report();
        return;
      } catch (error) {
        sent.set(n, 0);
        report();
        if (signal?.aborted || attempt >= retries) throw error;
        await sleep(retryDelayMs * 2 ** attempt, signal);
      }
    }
  };
  const worker = async (): Promise<void> => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) await sendPart(n);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(queue.length, 1)) }, worker));

  const parts = [...done.values()].sort((a, b) => a.PartNumber - b.PartNumber);
  await api.complete(jobId, plan.uploadId, parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })));
  store?.removeItem(resumeKey(jobId));
  return parts;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new DOMException("upload aborted", "AbortError"));
    });
  });
}
