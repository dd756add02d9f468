// Placeholder until this command is built (see the open issues).
export async function run(_argv: string[]): Promise<number> {
  console.error("btpeer seed: not built yet");
  return 1;
}
