// Builds the test images offline from Debian's busybox-static: busybox (sh, sleep, httpd, wget, nc, cat, …) and a
// pause image, as OCI archives that `skiff images import` (or the agent's images folder) takes.
// Usage: node scripts/build-test-images.mjs [DIR]   (default: dist/test-images; run `node scripts/build.mjs` first)
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = process.argv[2] ?? join(root, 'dist', 'test-images');
const { buildTestImages } = await import(join(root, 'dist', 'src', 'kubelet', 'images', 'build.js'));
const images = await buildTestImages(dir);
for (const img of Object.values(images)) console.log(`${img.name} ${img.id} -> ${img.file}`);
