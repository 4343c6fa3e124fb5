/**
 * The web page: pick a plugin and tool, choose or drop a file, watch the upload and then the job,
 * see the result drawn over the media, list and cancel jobs. Settings come from config.json (the
 * local stack writes one) and can be changed in "Connection" (kept in localStorage).
 */

import { ApiError, ForgeSyteClient, type Job, type Plugin } from "./client.js";
import { type CognitoConfig, CognitoSignIn, type Session } from "./cognito.js";
import { pendingUpload, uploadMultipart } from "./multipart.js";
import { jobProgressText } from "./progress.js";
import { xhrTransport } from "./transport.js";
import { drawTextBlocks, drawTracks, type TextBlock, type VideoResults } from "./overlay.js";
import { resultWords, shortId, statusWords } from "./wording.js";

interface Settings {
  apiUrl: string;
  apiKey?: string;
  token?: string;
  multipartThreshold?: number;
  /** The stack's user pool app client (outputs UserPoolClientId), for Authorizer=CognitoAuthorizer. */
  cognito?: CognitoConfig;
}

const SESSION_KEY = "forgesyte-session";

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const SETTINGS_KEY = "forgesyte-settings";

async function loadSettings(): Promise<Settings> {
  let defaults: Settings = { apiUrl: location.origin };
  try {
    const response = await fetch("config.json");
    if (response.ok) defaults = { ...defaults, ...((await response.json()) as Settings) };
  } catch {
    // static hosting without a config.json: same-origin API
  }
  const saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? "{}") as Partial<Settings>;
  const fromQuery = new URLSearchParams(location.search).get("multipartThreshold");
  return { ...defaults, ...saved, ...(fromQuery ? { multipartThreshold: Number(fromQuery) } : {}) };
}

let settings: Settings;
let client: ForgeSyteClient;
let plugins: Plugin[] = [];
let stopOverlay: (() => void) | null = null;
let currentJob: string | null = null;

/** The signed-in user's ID token, refreshed when it is about to expire (kept for this tab only). */
async function sessionToken(): Promise<string | undefined> {
  const saved = sessionStorage.getItem(SESSION_KEY);
  if (!saved || !settings.cognito) return settings.token || undefined;
  const session = await new CognitoSignIn(settings.cognito).fresh(JSON.parse(saved) as Session);
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session.idToken;
}

function wireSignIn(): void {
  const form = $<HTMLFormElement>("sign-in");
  form.hidden = !settings.cognito;
  if (sessionStorage.getItem(SESSION_KEY)) $("signed-in").textContent = "Signed in.";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!settings.cognito) return;
    new CognitoSignIn(settings.cognito)
      .signIn($<HTMLInputElement>("username").value, $<HTMLInputElement>("password").value)
      .then((session) => {
        sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
        $("signed-in").textContent = "Signed in.";
        return loadPlugins().then(refreshJobs);
      })
      .catch((error: unknown) => say(`Sign-in failed: ${describe(error)}`, true));
  });
}

function connect(): void {
  client = new ForgeSyteClient({
    baseUrl: settings.apiUrl,
    apiKey: settings.apiKey || undefined,
    token: sessionToken,
    multipartThreshold: settings.multipartThreshold,
    store: localStorage,
  });
  $<HTMLInputElement>("api-url").value = settings.apiUrl;
  $<HTMLInputElement>("api-key").value = settings.apiKey ?? "";
  $<HTMLInputElement>("token").value = settings.token ?? "";
}

function say(text: string, error = false): void {
  const message = $("message");
  message.textContent = text;
  message.classList.toggle("error", error);
}

const describe = (error: unknown): string => (error instanceof ApiError ? error.detail : String(error));

async function loadPlugins(): Promise<void> {
  plugins = await client.getPlugins();
  const select = $<HTMLSelectElement>("plugin");
  select.replaceChildren(...plugins.map((p) => new Option(`${p.name} (${p.id})`, p.id)));
  showTools();
}

function showTools(): void {
  const plugin = plugins.find((p) => p.id === $<HTMLSelectElement>("plugin").value);
  const select = $<HTMLSelectElement>("tool");
  select.replaceChildren(
    ...(plugin?.tools ?? []).map((tool) => {
      const why = plugin?.unavailable_tools[tool];
      const option = new Option(why ? `${tool} (unavailable)` : tool, tool);
      option.disabled = Boolean(why);
      if (why) option.title = why;
      return option;
    }),
  );
  const firstEnabled = [...select.options].find((o) => !o.disabled);
  if (firstEnabled) select.value = firstEnabled.value;
}

function chosenFile(): File | null {
  return $<HTMLInputElement>("file").files?.[0] ?? null;
}

function setBar(id: string, textId: string, percent: number, text: string): void {
  $<HTMLProgressElement>(id).value = percent;
  $(textId).textContent = text;
}

async function submit(event: Event): Promise<void> {
  event.preventDefault();
  const file = chosenFile();
  if (!file) return say("Choose a video or image first.", true);
  const pluginId = $<HTMLSelectElement>("plugin").value;
  const toolId = $<HTMLSelectElement>("tool").value;
  const isVideo = file.type.startsWith("video/") || /\.(mp4|m4v|mov|3gp)$/i.test(file.name);
  const options = isVideo && $<HTMLInputElement>("render").checked ? { render: true } : {};
  $<HTMLButtonElement>("submit").disabled = true;
  $("result").hidden = true;
  setBar("upload-progress", "upload-text", 0, "0%");
  setBar("job-progress", "job-text", 0, "–");
  const started = performance.now();
  const timing = document.body.dataset;
  delete timing.firstProgressMs;
  delete timing.uploadMs;
  const onProgress = (sent: number, total: number): void => {
    // Exposed for the upload benchmark (bench/uploads.py): first progress event and upload time.
    if (sent > 0 && timing.firstProgressMs === undefined) timing.firstProgressMs = String(performance.now() - started);
    if (sent >= total && timing.uploadMs === undefined) timing.uploadMs = String(performance.now() - started);
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? sent / seconds / 1e6 : 0;
    setBar("upload-progress", "upload-text", (100 * sent) / total, `${Math.round((100 * sent) / total)}% · ${rate.toFixed(1)} MB/s`);
  };
  try {
    say(`Uploading ${file.name}…`);
    const submitted = isVideo
      ? await client.submitVideo(file, pluginId, toolId, onProgress, options)
      : await client.analyzeImage(file, pluginId, toolId, options, onProgress);
    currentJob = submitted.job_id;
    $("cancel").hidden = false;
    say(statusWords({ job_id: submitted.job_id, status: "pending", progress: 0, compute: null }));
    const job = await client.pollJob(submitted.job_id, 60 * 60_000, 500, followJob);
    await finished(job, file, isVideo);
  } catch (error) {
    say(describe(error), true);
    offerResume();
  } finally {
    $<HTMLButtonElement>("submit").disabled = false;
    $("cancel").hidden = true;
    void refreshJobs();
  }
}

/** Each poll: the bar, and the job's state in words (validated, waiting for a runner, running). */
function followJob(update: Job): void {
  setBar("job-progress", "job-text", update.progress, jobProgressText(update));
  if (!["completed", "failed", "cancelled"].includes(update.status)) say(statusWords(update));
}

/** An upload a reload interrupted: offer to finish it into the same job, from the parts S3 holds. */
function offerResume(): void {
  const key = Object.keys(localStorage).find((k) => k.startsWith("forgesyte-multipart:"));
  const jobId = key?.slice("forgesyte-multipart:".length);
  const pending = jobId ? pendingUpload(localStorage, jobId) : null;
  $("resume").hidden = !pending;
  if (!jobId || !pending) return;
  $("resume-text").textContent = `The upload of ${pending.name} for job ${jobId} was interrupted. Choose the same file to resume it.`;
  $("resume-button").onclick = () => void resume(jobId);
}

async function resume(jobId: string): Promise<void> {
  const file = chosenFile();
  if (!file) return say("Choose the same file to resume its upload.", true);
  $("resume").hidden = true;
  const started = performance.now();
  try {
    await uploadMultipart(client.multipart, xhrTransport, jobId, file, {
      store: localStorage,
      onProgress: (sent, total) =>
        setBar("upload-progress", "upload-text", (100 * sent) / total, `${Math.round((100 * sent) / total)}% · resumed after ${Math.round(performance.now() - started)} ms`),
    });
    currentJob = jobId;
    const job = await client.pollJob(jobId, 60 * 60_000, 500, followJob);
    await finished(job, file, true);
  } catch (error) {
    say(describe(error), true);
    offerResume();
  }
}

async function finished(job: Job, file: File, isVideo: boolean): Promise<void> {
  if (job.status !== "completed") {
    const reason = job.error_message ? `: ${job.error_message}` : "";
    return say(`Job ${job.status}${reason}`, job.status === "failed");
  }
  say(`Job ${shortId(job.job_id)} completed: ${resultWords(job)}.`);
  const results = await client.getResults(job);
  showResult(job, file, isVideo, results);
}

function showResult(job: Job, file: File, isVideo: boolean, results: Record<string, unknown>): void {
  stopOverlay?.();
  $("result").hidden = false;
  const video = $<HTMLVideoElement>("video");
  const image = $<HTMLImageElement>("image");
  const canvas = $<HTMLCanvasElement>("overlay");
  const url = URL.createObjectURL(file);
  video.hidden = !isVideo;
  image.hidden = isVideo;
  $("texts").replaceChildren();
  $("stage").hidden = false;
  if (isVideo) {
    // Browsers play H.264 but not every codec (HEVC, mp4v): then the results stand alone, no empty player.
    video.onerror = () => {
      $("stage").hidden = true;
      say(
        `Job ${shortId(job.job_id)} completed: ${resultWords(job)}. This browser cannot play the video's codec, ` +
          "so the boxes are not drawn over it; the results and any rendered video are below.",
      );
    };
    video.src = url;
    stopOverlay = drawTracks(video, canvas, results as unknown as VideoResults);
    void video.play().catch(() => undefined);
  } else {
    const data = (results.results ?? {}) as { blocks?: TextBlock[]; text?: string };
    image.onload = () => drawTextBlocks(image, canvas, data.blocks ?? []);
    image.src = url;
    $("texts").replaceChildren(...(data.blocks ?? []).map((b) => Object.assign(document.createElement("li"), { textContent: b.text })));
  }
  $("summary").textContent = `${job.plugin_id} · ${job.tool}: ${resultWords(job)}`;
  $("summary-json").textContent = JSON.stringify(job.summary, null, 2);
  const links = [["results JSON", job.result_url], ...Object.entries(job.artifact_urls ?? {})].filter(([, href]) => href);
  $("links").replaceChildren(...links.map(([name, href]) => Object.assign(document.createElement("a"), { href, textContent: name, download: "" })));
}

async function refreshJobs(): Promise<void> {
  try {
    const { jobs } = await client.listJobs(20);
    $("jobs").querySelector("tbody")?.replaceChildren(
      ...jobs.map((job) => {
        const row = document.createElement("tr");
        row.dataset.status = job.status;
        const cancel = document.createElement("button");
        cancel.textContent = "Cancel";
        cancel.hidden = !["pending", "queued", "running"].includes(job.status);
        cancel.onclick = () => void cancelJob(job.job_id);
        const id = Object.assign(document.createElement("td"), { textContent: shortId(job.job_id), title: job.job_id });
        row.append(id);
        for (const text of [job.status, `${job.plugin_id} · ${job.tool}`, `${job.progress}%`]) {
          row.append(Object.assign(document.createElement("td"), { textContent: text }));
        }
        const cell = document.createElement("td");
        cell.append(cancel);
        row.append(cell);
        return row;
      }),
    );
  } catch (error) {
    say(describe(error), true);
  }
}

async function cancelJob(jobId: string): Promise<void> {
  try {
    await client.cancelJob(jobId);
    say(`Job ${shortId(jobId)} cancelled.`);
  } catch (error) {
    say(describe(error), true);
  }
  await refreshJobs();
}

function wireDrop(): void {
  const drop = $("drop");
  const input = $<HTMLInputElement>("file");
  const show = (): void => void ($("file-name").textContent = chosenFile()?.name ?? "");
  input.addEventListener("change", show);
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") input.click();
  });
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer?.files.length) {
      input.files = event.dataTransfer.files;
      show();
    }
  });
}

async function main(): Promise<void> {
  settings = await loadSettings();
  connect();
  wireSignIn();
  wireDrop();
  $("plugin").addEventListener("change", showTools);
  $("submit-form").addEventListener("submit", (event) => void submit(event));
  $("refresh").addEventListener("click", () => void refreshJobs());
  $("cancel").addEventListener("click", () => currentJob && void cancelJob(currentJob));
  $("save-settings").addEventListener("click", () => {
    settings = {
      ...settings,
      apiUrl: $<HTMLInputElement>("api-url").value,
      apiKey: $<HTMLInputElement>("api-key").value,
      token: $<HTMLInputElement>("token").value,
    };
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
    connect();
    void loadPlugins().then(refreshJobs);
  });
  offerResume();
  if (!settings.apiKey && !settings.token && !settings.cognito) {
    // The local stack hands its key to the page only on loopback: elsewhere the user enters it.
    $<HTMLDetailsElement>("settings").open = true;
    say("Enter the API key under Connection, then Save.");
    document.body.dataset.ready = "true";
    return;
  }
  try {
    await loadPlugins();
    await refreshJobs();
    document.body.dataset.ready = "true";
  } catch (error) {
    say(`Cannot reach the API: ${describe(error)}. Check Connection.`, true);
    document.body.dataset.ready = "true";
  }
}

void main();
