/**
 * Sending bytes with upload progress. Browsers report upload progress only through XMLHttpRequest
 * (fetch cannot), so uploads go through a Transport; tests pass a fake one.
 */

export interface Sent {
  status: number;
  text: string;
  header(name: string): string | null;
}

export interface Transport {
  send(
    method: string,
    url: string,
    body: Blob | FormData,
    onProgress: (loaded: number) => void,
    signal?: AbortSignal,
  ): Promise<Sent>;
}

export const xhrTransport: Transport = {
  send(method, url, body, onProgress, signal) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.upload.onprogress = (event) => onProgress(event.loaded);
      xhr.onload = () =>
        resolve({ status: xhr.status, text: xhr.responseText, header: (name) => xhr.getResponseHeader(name) });
      xhr.onerror = () => reject(new TypeError(`network error sending to ${new URL(url).host}`));
      xhr.onabort = () => reject(new DOMException("upload aborted", "AbortError"));
      signal?.addEventListener("abort", () => xhr.abort(), { once: true });
      xhr.send(body);
    });
  },
};
