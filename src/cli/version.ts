// `skiff --version` text, shared by the full CLI and the bundled agent entry.
import { GIT_VERSION, gitCommit } from '../apiserver/version.js';

export function versionText(): string {
  const commit = gitCommit().slice(0, 8);
  return `skiff version ${GIT_VERSION}${commit ? ` (${commit})` : ''}\nnode version ${process.version}`;
}
