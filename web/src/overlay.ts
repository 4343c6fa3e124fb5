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

const hue = (id: number): number => Math.round((id * 137.508) % 360);
/** The box: a bright colour per track. Its label: white on a dark shade of it, legible on any ground. */
const colour = (id: number): string => `hsl(${hue(id)} 85% 55%)`;
const labelGround = (id: number): string => `hsl(${hue(id)} 80% 24% / 0.9)`;

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
        // Sized to the video, so a label is as legible on a 4K frame shown small as on a small one.
        const size = Math.max(14, Math.round(canvas.height / 24));
        context.lineWidth = Math.max(2, Math.round(size / 8));
        context.font = `600 ${size}px system-ui, sans-serif`;
        context.textBaseline = "top";
        for (const object of byFrame.get(index) ?? []) {
          const [x1, y1, x2, y2] = object.xyxy;
          context.strokeStyle = colour(object.track_id);
          context.strokeRect(x1, y1, x2 - x1, y2 - y1);
          const trail = trails.get(object.track_id) ?? [];
          trail.push([(x1 + x2) / 2, (y1 + y2) / 2]);
          trails.set(object.track_id, trail.slice(-30));
          context.beginPath();
          trail.forEach(([x, y], i) => (i ? context.lineTo(x, y) : context.moveTo(x, y)));
          context.stroke();
          const label = `#${object.track_id}${object.class ? ` ${object.class}` : ""}`;
          const pad = Math.round(size / 5);
          const width = context.measureText(label).width + 2 * pad;
          const top = y1 - size - 2 * pad >= 0 ? y1 - size - 2 * pad : y1; // above the box, else inside it
          context.fillStyle = labelGround(object.track_id);
          context.fillRect(x1, top, width, size + 2 * pad);
          context.fillStyle = "#fff";
          context.fillText(label, x1 + pad, top + pad);
        }
        canvas.dataset.labelPx = String(size);
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
