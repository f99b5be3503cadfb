// `skiff <command>`: the multicall entry point.
export async function main(argv: string[]): Promise<void> {
  const [command] = argv;
  switch (command) {
    default:
      console.error(`unknown command ${command ?? ''}; try: skiff server`);
      process.exitCode = 1;
  }
}
