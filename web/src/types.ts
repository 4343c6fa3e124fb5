/** The job API's shapes (see the README's API section). */

export type JobStatus = "pending" | "queued" | "running" | "completed" | "failed" | "cancelled";
export const TERMINAL: ReadonlySet<JobStatus> = new Set(["completed", "failed", "cancelled"]);

export interface Plugin {
  id: string;
  name: string;
  version: string | null;
  description: string;
  tools: string[];
  unavailable_tools: Record<string, string>;
}

export interface ToolManifest {
  id: string;
  title?: string;
  description?: string;
  input_types?: string[];
  available?: boolean;
  unavailable_reason?: string;
  inputs?: { options?: Record<string, string> };
}

export interface PluginManifest {
  id: string;
  name?: string;
  version?: string;
  description?: string;
  tools: ToolManifest[];
}

export interface SegmentCounts {
  total: number;
  queued: number;
  running: number;
  done: number;
}

export interface Job {
  job_id: string;
  status: JobStatus;
  plugin_id: string;
  tool: string;
  job_type: "video" | "image";
  progress: number;
  /** A segmented run's segments by state (a long video cut into parts that run at once); null otherwise. */
  segments?: SegmentCounts | null;
  error_code: string | null;
  error_message: string | null;
  media: Record<string, unknown> | null;
  compute: string | null;
  attempt: number;
  summary: Record<string, unknown> | null;
  result_url: string | null;
  artifact_urls: Record<string, string> | null;
  created_at: string;
  updated_at: string;
}

export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
  expires_at: string;
  max_bytes: number;
}

export interface Submitted {
  job_id: string;
  status: JobStatus;
  upload: PresignedPost;
  replayed: boolean;
}

export interface MultipartStart {
  uploadId: string;
  key: string;
  part_bytes: number;
  parts: number;
}

export interface UploadedPart {
  PartNumber: number;
  ETag: string;
  Size?: number;
}

/** Upload progress: bytes sent so far of the file's size. */
export type OnProgress = (sent: number, total: number) => void;
