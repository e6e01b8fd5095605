/**
 * subgraph/docker-compose.yml (graph-node + IPFS + Postgres for `oao devnet`) agrees with the manifest and the
 * guide: the chain graph-node serves is the manifest's network, the database settings match, the ports are the
 * ones subgraph/README.md's commands use. Running the containers is not checked here (no docker daemon).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = fileURLToPath(new URL("../../", import.meta.url));
interface Service {
  image: string;
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: string[];
  extra_hosts?: string[];
}
const compose = parse(readFileSync(`${root}subgraph/docker-compose.yml`, "utf8")) as { services: Record<string, Service> };
const manifest = readFileSync(`${root}subgraph/subgraph.yaml`, "utf8");
const readme = readFileSync(`${root}subgraph/README.md`, "utf8");

describe("subgraph/docker-compose.yml", () => {
  const node = compose.services["graph-node"]!;
  const pg = compose.services.postgres!;

  it("graph-node serves the manifest's network from the devnet on the host", () => {
    const networks = new Set([...manifest.matchAll(/^ {4}network: (\S+)/gm)].map((m) => m[1]));
    expect([...networks]).toEqual(["localhost"]);
    const [name, url] = node.environment!.ethereum!.split(/:(.*)/s);
    expect(name).toBe("localhost");
    expect(url).toBe("http://host.docker.internal:8545");
    expect(node.extra_hosts).toContain("host.docker.internal:host-gateway");
    expect(node.depends_on?.sort()).toEqual(["ipfs", "postgres"]);
  });

  it("graph-node's database and IPFS settings are the other services'", () => {
    expect(node.environment!.postgres_host).toBe("postgres");
    expect(node.environment!.postgres_user).toBe(pg.environment!.POSTGRES_USER);
    expect(node.environment!.postgres_pass).toBe(pg.environment!.POSTGRES_PASSWORD);
    expect(node.environment!.postgres_db).toBe(pg.environment!.POSTGRES_DB);
    expect(node.environment!.ipfs).toBe("ipfs:5001");
  });

  it("publishes the ports the README's commands use", () => {
    const published = (s: Service) => (s.ports ?? []).map((p) => p.split(":")[0]);
    expect(published(node)).toEqual(expect.arrayContaining(["8000", "8020"]));
    expect(published(compose.services.ipfs!)).toContain("5001");
    expect(readme).toContain("--node http://127.0.0.1:8020");
    expect(readme).toContain("--ipfs http://127.0.0.1:5001");
    expect(readme).toContain("http://127.0.0.1:8000/subgraphs/name/oao");
  });
});
