// Enforces the layer rule: a layer imports only from layers above it (see README "Layout").
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const LAYERS = ['api', 'machinery', 'storage', 'apiserver', 'client', 'controllers', 'scheduler', 'kubelet', 'proxy', 'dns', 'ingress', 'cli'];
// proxy, dns and ingress are peers; cli may import everything.
const rank = (layer) => (['proxy', 'dns', 'ingress'].includes(layer) ? LAYERS.indexOf('proxy') : LAYERS.indexOf(layer));

function walk(dir, out = []) {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const layerOf = (file) => relative(join(root, 'src'), file).split('/')[0];
const problems = [];
for (const file of walk(join(root, 'src'))) {
  const from = layerOf(file);
  if (!LAYERS.includes(from)) continue;
  const isTest = file.endsWith('.test.ts');
  const src = readFileSync(file, 'utf8');
  for (const m of src.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
    const target = resolve(dirname(file), m[1]);
    if (!target.startsWith(join(root, 'src') + '/')) continue;
    const to = layerOf(target);
    if (!LAYERS.includes(to) || to === from) continue;
    // Tests may use lower layers' helpers to drive a real stack (e.g. a store test starting an API server) only if
    // they live in the lower layer's own folder; production code never may.
    if (rank(to) > rank(from) && !isTest) problems.push(`${relative(root, file)} imports ${m[1]} (${from} -> ${to})`);
  }
}
if (problems.length) {
  console.error('layer violations:\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log('layers ok');
