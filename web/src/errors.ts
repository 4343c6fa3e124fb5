/** An API error: the HTTP status and the server's own `detail`, which says what to do. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(status ? `${status}: ${detail}` : detail);
    this.name = "ApiError";
  }
}

export async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text();
  let detail = text || response.statusText;
  try {
    const body = JSON.parse(text) as { detail?: string; message?: string };
    detail = body.detail ?? body.message ?? detail;
  } catch {
    // not JSON (S3 answers XML): keep the text
  }
  const match = /<Message>([^<]*)<\/Message>/.exec(text);
  if (match?.[1]) detail = match[1];
  return new ApiError(response.status, detail);
}
