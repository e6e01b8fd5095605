/**
 * The `oao` command line. Each command group lives in its own module and is registered here:
 * `oao vm …` (cli/vm.ts), `oao model …` (cli/model.ts), `oao dispute …` (cli/dispute.ts),
 * `oao keeper …` (cli/keeper.ts), `oao demo` (cli/demo.ts), `oao devnet` (cli/devnet.ts),
 * `oao subgraph serve` (cli/subgraph.ts).
 *
 * Convention for every command with `--json`: human-readable progress goes to stderr, and the last
 * line of stdout is exactly one JSON object (bigints as decimal strings).
 */
import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";
import { vmCommand } from "./vm.ts";
import { buildModelCommand } from "./model.ts";
import { buildDisputeCommand } from "./dispute.ts";
import { buildKeeperCommand } from "./keeper.ts";
import { buildDemoCommand } from "./demo.ts";
import { buildDevnetCommand } from "./devnet.ts";
import { buildSubgraphCommand } from "./subgraph.ts";
import { describeCliError } from "./errors.ts";

const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

export function buildProgram(): Command {
  const program = new Command("oao")
    .description("Onchain AI Oracle: optimistic fraud proofs for machine learning")
    .version(pkg.version)
    .showHelpAfterError();
  program.addCommand(vmCommand());
  program.addCommand(buildModelCommand());
  program.addCommand(buildDisputeCommand());
  program.addCommand(buildKeeperCommand());
  program.addCommand(buildDemoCommand());
  program.addCommand(buildDevnetCommand());
  program.addCommand(buildSubgraphCommand());
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    console.error(`oao: ${describeCliError(error)}`);
    process.exit(1);
  }
}

await main(process.argv);
