// Builds the dashboard: copies web/src into web/dist and vendors uPlot (the ES module and its
// stylesheet) from node_modules, so the page works offline with no CDN.
//
// Usage: node web/build.mjs [OUT_DIR]   (OUT_DIR defaults to web/dist next to this file)
// The output is assembled in a temporary directory beside OUT_DIR and renamed into place, so a
// server reading OUT_DIR never sees a half-built tree and two builds never mix their files.
// Exits 1 with a message naming what is missing when a source or uPlot cannot be found.
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = dirname(fileURLToPath(import.meta.url));
const repoDir = resolve(webDir, '..');
const srcDir = join(webDir, 'src');
const outDir = resolve(process.argv[2] ?? join(webDir, 'dist'));
const uplotDir = join(repoDir, 'node_modules', 'uplot', 'dist');
const vendored = [
  [join(uplotDir, 'uPlot.esm.js'), 'vendor/uPlot.esm.js'],
  [join(uplotDir, 'uPlot.min.css'), 'vendor/uPlot.min.css'],
];

function fail(message) {
  console.error(`web build: ${message}`);
  process.exit(1);
}

if (!existsSync(join(srcDir, 'index.html'))) fail(`missing ${join(srcDir, 'index.html')}`);
for (const [from] of vendored) {
  if (!existsSync(from)) {
    fail(`missing ${from}: run "npm ci --ignore-scripts" in ${repoDir} (uplot is in package.json)`);
  }
}

mkdirSync(dirname(outDir), { recursive: true });
const staging = mkdtempSync(join(dirname(outDir), '.web-build-'));
try {
  cpSync(srcDir, staging, { recursive: true });
  mkdirSync(join(staging, 'vendor'), { recursive: true });
  for (const [from, to] of vendored) cpSync(from, join(staging, to));
  writeFileSync(join(staging, 'build.json'),
                JSON.stringify({ builtAt: new Date().toISOString() }) + '\n');
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) fail(`${outDir} exists and is not a directory`);
    const old = `${staging}.old`;
    renameSync(outDir, old);
    renameSync(staging, outDir);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(staging, outDir);
  }
} catch (err) {
  rmSync(staging, { recursive: true, force: true });
  fail(`could not write ${outDir}: ${err.message}`);
}
console.log(`web build: ${outDir}`);
