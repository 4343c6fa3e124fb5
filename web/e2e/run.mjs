// The page in headless Chromium (Debian's, driven by playwright-core; never a browser download),
// against a running local stack. tests/e2e/test_browser.py starts the stack and the media, then runs
// this with: BASE_URL, VIDEO (small), BIG_VIDEO (over the multipart threshold), BAD_FILE, IMAGE, HEVC,
// SCREENSHOTS.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const { BASE_URL, VIDEO, BIG_VIDEO, BAD_FILE, IMAGE, HEVC, SCREENSHOTS } = process.env;
const PHONE = { width: 390, height: 844 };
const THRESHOLD = 5 * 1024 * 1024; // 5 MiB parts: the big video goes in several
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
});
const results = {};

// Every static file the page asks for must be there (a missing favicon was a 403 on every load).
const missing = [];

async function openPage(query = "", viewport = { width: 1100, height: 1000 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("page error:", error.message));
  page.on("response", (response) => {
    const url = new URL(response.url());
    if (url.origin === BASE_URL && !url.pathname.startsWith("/v1/") && response.status() >= 400) {
      missing.push(`${url.pathname} ${response.status()}`);
    }
  });
  await page.goto(`${BASE_URL}/${query}`);
  await page.waitForSelector("body[data-ready=true]");
  // Every message the page shows, in order, to check the words it used along the way.
  await page.evaluate(() => {
    window.said = [];
    const message = document.querySelector("#message");
    new MutationObserver(() => window.said.push(message.textContent)).observe(message, { childList: true, characterData: true, subtree: true });
  });
  return { context, page };
}

/** Nothing is wider than the screen: no sideways scrolling on a phone. */
async function fitsWidth(page, width) {
  const widest = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(widest <= width, `the page is ${widest} px wide on a ${width} px screen`);
}

async function choose(page, file, plugin = "motion-tracker", tool = "video_track") {
  await page.selectOption("#plugin", plugin);
  await page.selectOption("#tool", tool);
  await page.setInputFiles("#file", file);
}

async function waitForJob(page, status, timeout = 120_000) {
  await page.waitForFunction((wanted) => document.querySelector("#job-text")?.textContent?.startsWith(wanted), status, { timeout });
}

async function uploadProgress(page) {
  return page.$eval("#upload-progress", (bar) => bar.value);
}

// 1. A small video: upload progress to 100 %, the job completes, boxes drawn over the video.
{
  const { context, page } = await openPage();
  const plugins = await page.$$eval("#plugin option", (options) => options.map((o) => o.value));
  assert.ok(plugins.includes("motion-tracker"), `plugins listed: ${plugins}`);
  await choose(page, VIDEO);
  await page.check("#render");
  await page.click("#submit");
  await waitForJob(page, "completed");
  assert.equal(await uploadProgress(page), 100);
  await page.waitForFunction(() => Number(document.querySelector("#overlay")?.dataset.boxes ?? 0) > 0, null, { timeout: 30_000 });
  const links = await page.$$eval("#links a", (a) => a.map((x) => x.textContent));
  assert.deepEqual(links.sort(), ["annotated_video", "contact_sheet", "results JSON"]);
  await page.evaluate(() => {
    const video = document.querySelector("#video");
    video.pause();
    video.currentTime = 1.5;
  });
  await page.waitForFunction(() => document.querySelector("#overlay")?.dataset.frame === "45", null, { timeout: 10_000 });
  await page.screenshot({ path: `${SCREENSHOTS}/tracking.png`, fullPage: true });
  const message = await page.textContent("#message");
  assert.match(message, /^Job [0-9a-f]{8} completed: \d+ frames, [\d,]+ detections in \d+ tracks \(motion\) · [\d.]+ s on \w+\.$/);
  const said = await page.evaluate(() => window.said);
  assert.ok(said.some((text) => / is running on \w+: \d+%$/.test(text)), `never said it was running: ${said}`);
  assert.ok(!said.some((text) => text.includes("{")), `JSON in the words: ${said}`);
  assert.equal(await page.$eval("#summary-details", (d) => d.open), false); // the JSON is one click away
  await page.click("#summary-details summary");
  assert.match(await page.textContent("#summary-json"), /"frame_count": \d+/);
  assert.ok(Number(await page.$eval("#overlay", (c) => c.dataset.labelPx)) >= 14, "track labels too small");
  results.small_video = { boxes: Number(await page.$eval("#overlay", (c) => c.dataset.boxes)), message, said };
  await context.close();
}

// 1b. The same on a phone's screen (390 px): it fits, the job list too, and words are not broken.
{
  const { context, page } = await openPage("", PHONE);
  await choose(page, VIDEO);
  await page.click("#submit");
  await waitForJob(page, "completed");
  await page.waitForFunction(() => Number(document.querySelector("#overlay")?.dataset.boxes ?? 0) > 0, null, { timeout: 30_000 });
  await fitsWidth(page, PHONE.width);
  // Each status on one line ("comple|ted" was split mid-word): the lines its text takes, measured.
  const lines = await page.$$eval("#jobs tbody td:nth-child(2)", (cells) =>
    cells.map((cell) => {
      const range = document.createRange();
      range.selectNodeContents(cell);
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    }),
  );
  assert.ok(lines.length > 0 && lines.every((n) => n === 1), `statuses over several lines: ${lines}`);
  await page.screenshot({ path: `${SCREENSHOTS}/tracking-phone.png`, fullPage: true });
  await context.close();
}

// 1c. A codec this browser cannot play (HEVC): a neutral message with the results, no empty player.
{
  const { context, page } = await openPage();
  const playable = await page.evaluate(() => document.createElement("video").canPlayType('video/mp4; codecs="hvc1.1.6.L93.B0"'));
  assert.equal(playable, "", "this Chromium plays HEVC: the test needs a codec it cannot play");
  await choose(page, HEVC);
  await page.click("#submit");
  await waitForJob(page, "completed");
  await page.waitForFunction(() => document.querySelector("#message")?.textContent?.includes("cannot play"), null, { timeout: 30_000 });
  const message = await page.textContent("#message");
  assert.match(message, /completed: \d+ frames.*cannot play the video's codec/);
  assert.equal(await page.$eval("#message", (m) => m.classList.contains("error")), false, "shown as an error");
  assert.equal(await page.$eval("#stage", (s) => s.hidden), true, "an empty player is shown");
  assert.deepEqual(await page.$$eval("#links a", (a) => a.map((x) => x.textContent)), ["results JSON"]);
  results.hevc = { message };
  await context.close();
}

// 2. A video over the threshold goes in parts; part 2 fails once and is retried.
{
  const { context, page } = await openPage(`?multipartThreshold=${THRESHOLD}`);
  const attempts = {};
  await context.route(
    (url) => url.searchParams.has("partNumber"),
    async (route) => {
      const part = new URL(route.request().url()).searchParams.get("partNumber");
      attempts[part] = (attempts[part] ?? 0) + 1;
      if (part === "2" && attempts[part] === 1) return route.abort("connectionreset");
      return route.continue();
    },
  );
  await choose(page, BIG_VIDEO, "frame-counter", "count_frames");
  await page.click("#submit");
  await waitForJob(page, "completed");
  assert.equal(await uploadProgress(page), 100);
  assert.equal(attempts["2"], 2, `part 2 tries: ${JSON.stringify(attempts)}`);
  assert.ok(Object.keys(attempts).length >= 3, `parts: ${JSON.stringify(attempts)}`);
  results.multipart = { parts: Object.keys(attempts).length, attempts };
  await context.close();
}

// 3. The connection drops for good mid-upload; after a reload the upload resumes into the same job.
{
  const { context, page } = await openPage(`?multipartThreshold=${THRESHOLD}`);
  const sent = [];
  let offline = true;
  await context.route(
    (url) => url.searchParams.has("partNumber"),
    async (route) => {
      const part = Number(new URL(route.request().url()).searchParams.get("partNumber"));
      if (offline && part >= 2) return route.abort("internetdisconnected");
      sent.push(part);
      return route.continue();
    },
  );
  await choose(page, BIG_VIDEO, "frame-counter", "count_frames");
  await page.click("#submit");
  await page.waitForSelector("#resume:not([hidden])", { timeout: 60_000 });
  offline = false;
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  await page.waitForSelector("#resume:not([hidden])");
  const before = sent.length;
  await page.setInputFiles("#file", BIG_VIDEO);
  await page.click("#resume-button");
  await waitForJob(page, "completed");
  const resumed = sent.slice(before);
  assert.ok(!resumed.includes(1), `part 1 was sent again after the reload: ${resumed}`);
  results.resume = { first_load: sent.slice(0, before), after_reload: resumed };
  await context.close();
}

// 4. OCR on an image: the text blocks outlined over it and listed.
{
  const { context, page } = await openPage();
  await choose(page, IMAGE, "rapidocr", "analyze");
  await page.click("#submit");
  await waitForJob(page, "completed");
  await page.waitForFunction(() => Number(document.querySelector("#overlay")?.dataset.boxes ?? 0) > 0, null, { timeout: 30_000 });
  const texts = await page.$$eval("#texts li", (items) => items.map((li) => li.textContent));
  assert.ok(texts.length > 0, "no text blocks listed");
  await page.screenshot({ path: `${SCREENSHOTS}/ocr.png`, fullPage: true });
  results.ocr = { texts };
  await context.close();
}

// 5. A file that is not media: the job fails and the page shows the reason. On a phone's screen.
{
  const { context, page } = await openPage("", PHONE);
  await choose(page, BAD_FILE);
  await page.click("#submit");
  await waitForJob(page, "failed");
  const message = await page.textContent("#message");
  assert.match(message, /unrecognised file format|not an MP4/);
  await fitsWidth(page, PHONE.width);
  await page.screenshot({ path: `${SCREENSHOTS}/rejected-phone.png`, fullPage: true });
  results.rejected = { message };
  await context.close();
}

assert.deepEqual(missing, [], "static files the page asked for and did not get");
await browser.close();
console.log(JSON.stringify(results));
