// `skiff killall` (remove what an agent left running on this host) and `skiff images import` (image tarballs into the
// agent's containerd). The kubelet modules load only when a command runs.
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { defaultDataDir } from './paths.js';

export function addNodeToolCommands(program: Command): void {
  program
    .command('killall')
    .description('Stop every pod container, containerd and the pod network of a data dir (for tests and uninstall)')
    .option('--data-dir <dir>', 'the data dir of the server or agent', defaultDataDir())
    .action(async (opts: { dataDir: string }) => {
      const { killall } = await import('../kubelet/killall.js');
      const r = await killall(join(resolve(opts.dataDir), 'agent'), (m) => console.error(m));
      console.log(`removed ${r.containers} containers and ${r.sandboxes} pod sandboxes`);
    });

  const images = program.command('images').description('Manage the node agent\'s container images');
  images
    .command('import')
    .description('Import image tarballs (OCI or docker archives) into the agent\'s containerd')
    .argument('<files...>')
    .option('--data-dir <dir>', 'the data dir of the server or agent', defaultDataDir())
    .option('--container-runtime-endpoint <socket>', 'the containerd socket (default: the agent\'s)')
    .action(async (files: string[], opts: { dataDir: string; containerRuntimeEndpoint?: string }) => {
      const { importImageArchive, recordImportedImages } = await import('../kubelet/images/import.js');
      const { containerdPaths } = await import('../kubelet/containerd/supervisor.js');
      const agentDir = join(resolve(opts.dataDir), 'agent');
      const socket = opts.containerRuntimeEndpoint?.replace(/^unix:\/\//, '') ?? containerdPaths(agentDir).socket;
      for (const f of files) {
        const names = await importImageArchive(socket, resolve(f));
        // Kept by image GC, as the airgap folder's images are.
        await recordImportedImages(agentDir, names);
        console.log(`${f}: ${names.length ? names.join(', ') : 'imported'}`);
      }
    });
}
