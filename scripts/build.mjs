// Build: type-check and compile everything to dist/ with tsc, then run generators that read the compiled output.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

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
