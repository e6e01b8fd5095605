/**
 * Every command the dapp, frontend and operator guides tell a user to run is run by a test or by CI (issue 17, "every
 * command in the dapp, frontend and operator guides is run by a test or a script in CI"). The commands are read from
 * the guides themselves — each line of their `sh` blocks and each inline code span that starts with `oao`, `npx`,
 * `npm` or `node` — reduced to a signature (the program, its subcommands and its flags), and each signature must be
 * in COVERED with the file that runs it and the invocation that file contains. A command added to a guide without a
 * test fails here, naming it; so does a test that stops running a documented command.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url);
const GUIDES = ["docs/dapp-guide.md", "docs/frontend-guide.md", "docs/operator-guide.md"] as const;

const FRESH_MARKER = "<!-- fresh-project -->";
const freshBlock = () => new RegExp(`${FRESH_MARKER}\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(readFileSync(new URL("docs/dapp-guide.md", ROOT), "utf8"))?.[1] ?? "";

/**
 * Signature → where it runs: a file of the repository and a string (or pattern) that file contains. A key
 * "<guide> <signature>" overrides the signature's entry for that guide (the same words meaning another project).
 */
const COVERED: Record<string, { file: string; runs: string | RegExp }[]> = {
  // The dapp guide: installing the packages into a fresh project (test/dapp/fresh-project.test.ts does each step).
  // `npm test` starts with `npm run build`; the fresh-project test packs the packages with `npm run pack` and runs the
  // guide's shell block after `<!-- fresh-project -->` line by line (npm install, npx hardhat build, node --test).
  "npm run build": [{ file: "package.json", runs: /"test": "npm run build &&/ }],
  "npm run pack": [{ file: "test/dapp/fresh-project.test.ts", runs: "npm run pack --silent" }],
  "npm install": [{ file: "test/dapp/fresh-project.test.ts", runs: FRESH_MARKER }],
  "npm install --save-dev": [{ file: "test/dapp/fresh-project.test.ts", runs: FRESH_MARKER }],
  "npx hardhat build": [{ file: "test/dapp/fresh-project.test.ts", runs: FRESH_MARKER }],
  "node --test": [{ file: "test/dapp/fresh-project.test.ts", runs: FRESH_MARKER }],
  "npm test": [{ file: ".ci/run", runs: /^npm test$/m }],
  "npx vitest run": [{ file: "package.json", runs: /"test": ".*vitest run/ }],
  // oao devnet and what the guides run against it.
  "npx oao devnet": [{ file: "test/e2e/keeper-process.test.ts", runs: /"devnet", "--port"/ }],
  "npx oao devnet --port --host --keeper-account": [
    { file: "test/e2e/keeper-process.test.ts", runs: /"devnet", "--port"/ },
    { file: "test/e2e/devnet.test.ts", runs: /"--keeper-account"/ },
    { file: "test/e2e/devnet.test.ts", runs: /"--host"/ },
  ],
  "oao devnet": [{ file: "test/e2e/devnet.test.ts", runs: /"devnet"/ }],
  "oao devnet --keeper-account": [{ file: "test/e2e/devnet.test.ts", runs: /"--keeper-account"/ }],
  "oao demo": [{ file: "test/e2e/demo.test.ts", runs: /bin\/oao\.js|"demo"/ }],
  "oao demo --rpc": [{ file: "test/e2e/devnet.test.ts", runs: /"demo", "--rpc"/ }],
  // The operator guide's `npm install` is the repository's own: CI runs it, and with it the native addon's build
  // (the `install` script); `npm run build:native` is that build with its full output (the same build.mjs).
  "docs/operator-guide.md npm install": [
    { file: ".ci/run", runs: /^npm install$/m },
    { file: "package.json", runs: '"install": "node keeper/native/build.mjs --install"' },
  ],
  "npm run build:native": [
    { file: "package.json", runs: '"build:native": "node keeper/native/build.mjs"' },
    { file: ".ci/run", runs: /^npm install$/m },
  ],
  // The dev indexer beside the devnet (its default deployment: the networks file the devnet wrote).
  "npx oao subgraph serve": [
    { file: "test/e2e/devnet.test.ts", runs: /"subgraph", "serve", "--rpc", info\.rpc, "--port", "0"\]/ },
    { file: "test/e2e/subgraph-serve.test.ts", runs: /"subgraph", "serve", "--rpc"/ },
  ],
  // Models.
  "oao model run": [{ file: "keeper/src/cli/model.test.ts", runs: /run\(\["run"/ }],
  "npx oao model info --json": [{ file: "keeper/src/cli/model.test.ts", runs: /"info"/ }],
  "npx oao model check --json": [{ file: "keeper/src/cli/model.test.ts", runs: /"check"/ }],
  "oao model register": [{ file: "test/e2e/devnet.test.ts", runs: /"model", "register"/ }],
  "npx oao model register --config --fee --json": [{ file: "test/e2e/devnet.test.ts", runs: /"model", "register", "mnist", "--config", config, "--fee"/ }],
  "npx oao model register --rpc --oracle --fee --fee-share-bps --metadata-uri": [
    { file: "test/e2e/devnet.test.ts", runs: /"model", "register", "mnist", "--rpc", info\.rpc, "--oracle".*"--fee-share-bps".*"--metadata-uri"/ },
  ],
  // The operator's keeper.
  "npx oao keeper stake --config": [{ file: "test/e2e/keeper-process.test.ts", runs: /cli\("stake"/ }],
  "npx oao keeper status --config": [{ file: "test/e2e/keeper-process.test.ts", runs: /cli\("status"/ }],
  "oao keeper stake": [{ file: "test/e2e/keeper-process.test.ts", runs: /cli\("stake"/ }],
  "oao keeper status": [{ file: "test/e2e/keeper-process.test.ts", runs: /cli\("status"/ }],
  "oao keeper unstake": [{ file: "test/e2e/keeper-process.test.ts", runs: /cli\("unstake"/ }],
  "oao keeper withdraw": [{ file: "test/e2e/keeper-process.test.ts", runs: /cli\("withdraw"\)/ }],
  "oao keeper run": [{ file: "test/e2e/harness/keeper-proc.ts", runs: /"keeper", "run", "--config"/ }],
  "npx oao keeper run --config": [{ file: "test/e2e/harness/keeper-proc.ts", runs: /"keeper", "run", "--config"/ }],
  "npx oao keeper run --config --fault --fault-seed": [{ file: "test/e2e/harness/keeper-proc.ts", runs: /"--fault", o\.fault.*"--fault-seed"/ }],
  "npx oao dispute simulate --fault --vm-trace-depth": [{ file: "test/dispute-keeper/cli.test.ts", runs: /"simulate".*"--fault".*"--vm-trace-depth", "32"/ }],
};

const OAO_SUBCOMMANDS = new Set(["devnet", "demo", "model", "keeper", "dispute", "vm", "subgraph", "run", "info", "check", "register", "import", "stake", "status", "unstake", "withdraw", "simulate", "serve", "prove"]);

/** The commands of one guide: sh-block lines and inline code spans that start with a program a user runs. */
export function guideCommands(markdown: string): string[] {
  const out: string[] = [];
  for (const block of markdown.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split("\n")) {
      const cmd = line.replace(/\s+#.*$/, "").trim();
      if (cmd !== "" && !cmd.startsWith("#")) out.push(cmd);
    }
  }
  const prose = markdown.replace(/```[\s\S]*?```/g, "");
  for (const span of prose.matchAll(/`((?:npx |npm |node |oao )[^`]*)`/g)) out.push(span[1]!);
  return out;
}

/**
 * A command's signature: environment assignments and `export` lines dropped, the program and its subcommands (words
 * before the first argument), then its flags in order; `npx oao …` (a placeholder in prose) has none.
 */
export function signature(command: string): string | undefined {
  const words = command.split(/\s+/).filter((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w));
  if (words.length === 0 || words[0] === "export" || words.includes("…")) return undefined;
  const head: string[] = [];
  let i = 0;
  if (words[0] === "npx" && words[1] === "oao") head.push(words[i++]!);
  if (words[i] === "oao") {
    // oao and its subcommands (the CLI's command table: keeper/src/cli/main.ts), then the arguments
    head.push(words[i++]!);
    while (i < words.length && OAO_SUBCOMMANDS.has(words[i]!)) head.push(words[i++]!);
  } else {
    // npm/npx/node and their subcommands: lower-case words without path or value characters
    while (i < words.length && /^[a-z][a-z:-]*$/.test(words[i]!) && !(head.length >= 2 && head[0] === "npm" && head[1] === "install")) head.push(words[i++]!);
  }
  const flagList = words.slice(i).filter((w) => /^\[?--[a-z]/.test(w)).map((w) => w.replace(/^\[/, "").replace(/[=\]].*$/, ""));
  return [...head, ...flagList].join(" ");
}

describe("every command of the dapp, frontend and operator guides is run by a test or by CI", () => {
  for (const guide of GUIDES) {
    it(guide, () => {
      const commands = guideCommands(readFileSync(new URL(guide, ROOT), "utf8"));
      expect(commands.length, `${guide} has no commands?`).toBeGreaterThan(0);
      for (const command of commands) {
        const sig = signature(command);
        if (sig === undefined) continue;
        const where = COVERED[`${guide} ${sig}`] ?? COVERED[sig];
        expect(where, `${guide}: \`${command}\` (signature "${sig}") is not run by any test: add one and list it in COVERED`).toBeDefined();
        for (const { file, runs } of where!) {
          const text = readFileSync(new URL(file, ROOT), "utf8");
          const found = typeof runs === "string" ? text.includes(runs) : runs.test(text);
          expect(found, `${guide}: \`${command}\`: ${file} no longer runs it (${String(runs)})`).toBe(true);
          // The fresh-project test runs the block after the marker: the command must be in that block.
          if (runs === FRESH_MARKER) expect(freshBlock().split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()), `${guide}: \`${command}\` is covered by the fresh-project test only inside the block after ${FRESH_MARKER}`).toContain(command);
        }
      }
    });
  }

  it("reads commands and signatures as a user would type them", () => {
    expect(guideCommands("x `npx oao model check DIR --json` y\n```sh\nexport A=1\nnpm run build  # note\n```\n")).toEqual(["export A=1", "npm run build", "npx oao model check DIR --json"]);
    expect(signature("OAO_DEVNET_ORACLE=0x5F node --test")).toBe("node --test");
    expect(signature("npx oao keeper run --config cheater.json --fault graph:2 [--fault-seed N]")).toBe("npx oao keeper run --config --fault --fault-seed");
    expect(signature("npm install /a/b.tgz viem@^2")).toBe("npm install");
    expect(signature("npx oao …")).toBeUndefined();
  });
});
