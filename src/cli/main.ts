// `skiff <command>`: the multicall entry point.
import { Command } from 'commander';
import { addAgentCommand } from './agent.js';
import { runKubectl } from './kubectl.js';
import { addNodeToolCommands } from './node-tools.js';
import { addServerCommand } from './server.js';
import { versionText } from './version.js';

export { versionText };

export function buildProgram(): Command {
  const program = new Command('skiff')
    .description('Kubernetes, rebuilt in TypeScript as one small program')
    .version(versionText(), '-v, --version', 'print the version')
    .showHelpAfterError();
  addServerCommand(program);
  addAgentCommand(program);
  addNodeToolCommands(program);
  // Declared for --help only: main() hands kubectl its arguments untouched.
  program.command('kubectl').description('Run kubectl against this cluster (KUBECONFIG defaults to the server\'s kubeconfig)').argument('[args...]');
  return program;
}

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'kubectl') {
    process.exitCode = await runKubectl(argv.slice(1));
    return;
  }
  const program = buildProgram();
  if (argv.length === 0) {
    program.outputHelp();
    process.exitCode = 1;
    return;
  }
  await program.parseAsync(argv, { from: 'user' });
}
