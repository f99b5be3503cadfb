// `skiff agent` on its own: the entry that scripts/build.mjs bundles (with esbuild) into dist/src/cli/agent.bundle.js.
// The kubelet agent is a small long-running process: one bundled module holds only the agent's code (no server, no
// kubectl), minified, instead of ~300 modules with their comments and module records (measured: 8 MiB less RSS).
import { Command } from 'commander';
import { addAgentCommand } from './agent.js';
import { versionText } from './version.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('skiff').version(versionText(), '-v, --version', 'print the version').showHelpAfterError();
  addAgentCommand(program);
  await program.parseAsync(argv, { from: 'user' });
}
