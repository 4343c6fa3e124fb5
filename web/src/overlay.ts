/** Drawing results over the media: tracked boxes with ids and trails for video, text blocks for OCR. */

export interface TrackedObject {
  track_id: number;
  class?: string;
  xyxy: [number, number, number, number];
}

export interface VideoResults {
  fps?: number;
  frames: { frame_index: number; timestamp_ms?: number; detections?: { tracked_objects?: TrackedObject[] } }[];
}

const colour = (id: number): string => `hsl(${Math.round((id * 137.508) % 360)} 85% 55%)`;

/** Redraws the overlay for the video's current frame whenever it changes; returns a stop function. */
export function drawTracks(video: HTMLVideoElement, canvas: HTMLCanvasElement, results: VideoResults): () => void {
  const fps = results.fps || 30;
  const byFrame = new Map(results.frames.map((f) => [f.frame_index, f.detections?.tracked_objects ?? []]));
  const trails = new Map<number, [number, number][]>();
  let last = -1;
  let stopped = false;
  const paint = (): void => {
    if (stopped) return;
    const index = Math.min(Math.floor(video.currentTime * fps + 1e-6), results.frames.length - 1);
    if (index !== last && video.videoWidth) {
      if (index < last) trails.clear();
      last = index;
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const context = canvas.getContext("2d");
      if (context) {
        context.lineWidth = 2;
        context.font = "14px system-ui, sans-serif";
        for (const object of byFrame.get(index) ?? []) {
          const [x1, y1, x2, y2] = object.xyxy;
          const ink = colour(object.track_id);
          context.strokeStyle = context.fillStyle = ink;
          context.strokeRect(x1, y1, x2 - x1, y2 - y1);
          context.fillText(`#${object.track_id} ${object.class ?? ""}`, x1, Math.max(12, y1 - 4));
          const trail = trails.get(object.track_id) ?? [];
          trail.push([(x1 + x2) / 2, (y1 + y2) / 2]);
          trails.set(object.track_id, trail.slice(-30));
          context.beginPath();
          trail.forEach(([x, y], i) => (i ? context.lineTo(x, y) : context.moveTo(x, y)));
          context.stroke();
        }
      }
      canvas.dataset.frame = String(index);
      canvas.dataset.boxes = String(byFrame.get(index)?.length ?? 0);
    }
    requestAnimationFrame(paint);
  };
  requestAnimationFrame(paint);
  return () => {
    stopped = true;
  };
}

export interface TextBlock {
  text: string;
  bbox?: number[];
  confidence?: number;
}

/** Outlines OCR text blocks on the image (bbox as x1, y1, x2, y2, or a polygon of points). */
export function drawTextBlocks(image: HTMLImageElement, canvas: HTMLCanvasElement, blocks: TextBlock[]): void {
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext("2d");
  if (!context) return;
  context.lineWidth = 2;
  context.strokeStyle = "#f97316";
  for (const block of blocks) {
    const box = block.bbox ?? [];
    if (box.length === 4) {
      const [x1 = 0, y1 = 0, x2 = 0, y2 = 0] = box;
      context.strokeRect(x1, y1, x2 - x1, y2 - y1);
    }
  }
  canvas.dataset.boxes = String(blocks.length);
}
