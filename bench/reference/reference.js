// The reference flow imgproc replaces (a Node.js Lambda on sharp 0.33.2), exactly as the
// performance issue describes it: per variant, one after another, from the original buffer.
//
//   node reference.js --runs 5 --out DIR [--single-thread] photo.jpg
//
// Prints one JSON object: module init time, first-image time, per-run wall and CPU times,
// peak RSS and the bytes of each variant (written to DIR for SSIM scoring by bench/run.py).
'use strict';

const started = process.hrtime.bigint();
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};
const singleThread = args.includes('--single-thread');
if (singleThread) process.env.UV_THREADPOOL_SIZE = '1';

const sharp = require('sharp');
if (singleThread) sharp.concurrency(1);
const initMs = Number(process.hrtime.bigint() - started) / 1e6;
const fs = require('fs');
const path = require('path');

const VARIANTS = [
  { name: 'thumbnail', width: 150, height: 150, quality: 80, format: 'jpeg' },
  { name: 'small', width: 400, quality: 85, format: 'jpeg' },
  { name: 'medium', width: 800, quality: 85, format: 'jpeg' },
  { name: 'large', width: 1200, quality: 90, format: 'jpeg' },
  { name: 'webp-medium', width: 800, quality: 85, format: 'webp' },
  { name: 'webp-large', width: 1200, quality: 90, format: 'webp' },
];

async function processImage(buf) {
  await sharp(buf).metadata();
  const outputs = {};
  for (const v of VARIANTS) {
    let p = sharp(buf).rotate();
    p = v.height
      ? p.resize(v.width, v.height, { fit: 'cover', position: 'center' })
      : p.resize(v.width, undefined, { fit: 'inside', withoutEnlargement: true });
    p = v.format === 'jpeg'
      ? p.jpeg({ quality: v.quality, progressive: true, mozjpeg: true })
      : p.webp({ quality: v.quality, effort: 4 });
    if (v.width >= 800) p = p.sharpen();
    outputs[v.name] = await p.toBuffer();
  }
  outputs.placeholder = await sharp(buf).resize(20, 20, { fit: 'inside' }).blur(5)
    .jpeg({ quality: 50 }).toBuffer();
  return outputs;
}

async function main() {
  const file = args[args.length - 1];
  const runs = Number(option('--runs', '5'));
  const out = option('--out', null);
  const buf = fs.readFileSync(file);
  const wall = [];
  const cpu = [];
  let outputs;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    outputs = await processImage(buf);
    const c1 = process.cpuUsage(c0);
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    cpu.push((c1.user + c1.system) / 1000);
  }
  if (out) {
    fs.mkdirSync(out, { recursive: true });
    for (const [name, data] of Object.entries(outputs)) {
      const ext = name.startsWith('webp') ? 'webp' : 'jpg';
      fs.writeFileSync(path.join(out, `${name}.${ext}`), data);
    }
  }
  const bytes = Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.length]));
  console.log(JSON.stringify({
    init_ms: initMs,
    first_ms: wall[0],
    wall_ms: wall,
    cpu_ms: cpu,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    bytes,
  }));
}

main().catch((err) => { console.error(err); process.exit(1); });
