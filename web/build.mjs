// Bundles the page into dist/ (served by the local stack at /, or deployable as static files).
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";

await mkdir("dist", { recursive: true });
await build({
  entryPoints: ["src/page.ts"],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  outfile: "dist/app.js",
});
await copyFile("index.html", "dist/index.html");
await copyFile("style.css", "dist/style.css");
await copyFile("favicon.svg", "dist/favicon.svg");
console.log("built web/dist");
