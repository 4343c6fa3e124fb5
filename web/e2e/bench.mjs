// Upload throughput through the page into the local stack: one presigned POST against a multipart
// upload with 4 parts in flight, and the time from submit to the first progress event. Prints JSON.
// Run by bench/uploads.py with BASE_URL, FILE (the file to upload) and RUNS.
import { chromium } from "playwright-core";

const { BASE_URL, FILE } = process.env;
const runs = Number(process.env.RUNS ?? 3);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });

async function once(query) {
  const page = await browser.newPage();
  await page.goto(`${BASE_URL}/${query}`);
  await page.waitForSelector("body[data-ready=true]");
  await page.selectOption("#plugin", "motion-tracker");
  await page.selectOption("#tool", "video_track");
  await page.setInputFiles("#file", FILE);
  await page.click("#submit");
  await page.waitForFunction(() => document.body.dataset.uploadMs !== undefined, null, { timeout: 600_000 });
  const timing = await page.evaluate(() => ({ ...document.body.dataset }));
  await page.close();
  return { uploadMs: Number(timing.uploadMs), firstProgressMs: Number(timing.firstProgressMs) };
}

const results = { post: [], multipart: [] };
for (let i = 0; i < runs; i++) {
  // Interleaved, so the machine's drift hits both alike.
  results.post.push(await once("?multipartThreshold=1e15"));
  results.multipart.push(await once("?multipartThreshold=5242880"));
}
await browser.close();
console.log(JSON.stringify(results));
