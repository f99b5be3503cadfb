// Build: type-check and compile everything to dist/ with tsc, then run generators that read the compiled output.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.']);
// Generated artefacts (e.g. the OpenAPI documents) are produced by scripts/gen-*.mjs, if present.
for (const gen of ['scripts/gen-openapi.mjs']) {
  if (existsSync(`${root}/${gen}`)) run(process.execPath, [gen]);
}
// The containerd agent's bundle (src/cli/agent-launch.ts loads it): one minified module with only the agent's code.
// esbuild is a dev dependency; without it the agent runs from the separate modules, as everything else does.
const bundle = `${root}/dist/src/cli/agent.bundle.js`;
const esbuild = await import('esbuild').catch(() => undefined);
if (esbuild) {
  await esbuild.build({
    entryPoints: [`${root}/dist/src/cli/agent-main.js`],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    // CommonJS dependencies require() node's modules: give the ES module a require.
    banner: { js: "import { createRequire as __skiffRequire } from 'node:module'; const require = __skiffRequire(import.meta.url);" },
  });
  // esbuild keeps non-ASCII characters of regular expression literals (e.g. "µs" in Go durations): one such character
  // makes V8 hold the whole 1.3 MB source as a two-byte string (2.5 MiB). \u escapes mean the same in regular
  // expressions, strings and identifiers.
  const text = readFileSync(bundle, 'utf8');
  writeFileSync(bundle, text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
} else {
  rmSync(bundle, { force: true });
  console.log('build: esbuild not installed, the agent runs unbundled');
}
