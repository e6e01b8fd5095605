/**
 * Every SDK query document is valid against the query schema graph-node derives from
 * subgraph/schema.graphql (built by subgraph/tools/query-schema.ts), and the check rejects a wrong one.
 */
import { buildSchema, parse, print, validate } from "graphql";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { buildQuerySchemaSdlFromFile, pluralize } from "../../subgraph/tools/query-schema.ts";
import { documents } from "../src/subgraph/documents.ts";

const schemaFile = join(resolve(import.meta.dirname, "..", ".."), "subgraph", "schema.graphql");
const schema = buildSchema(buildQuerySchemaSdlFromFile(schemaFile));

describe("subgraph query documents", () => {
  it("derives the collection fields graph-node generates", () => {
    expect(pluralize("request")).toBe("requests");
    expect(pluralize("slash")).toBe("slashes");
    const query = schema.getQueryType()!.getFields();
    for (const f of ["request", "requests", "dispute", "disputes", "operators", "slashes", "feeStats", "_meta"]) {
      expect(query[f], f).toBeDefined();
    }
    expect(query.feeStats!.args.map((a) => a.name)).toContain("interval");
  });

  for (const [name, document] of Object.entries(documents)) {
    it(`${name} is valid`, () => {
      expect(validate(schema, document).map((e) => e.message)).toEqual([]);
    });
  }

  it("rejects a document with an unknown field, a wrong filter or a wrong argument type", () => {
    const bad = [
      "{ requests { id notAField } }",
      "{ requests(where: { requester_gt_nope: \"0x\" }) { id } }",
      "{ request(id: true) { id status } }",
      "{ operators(orderBy: nope) { id } }",
    ];
    for (const source of bad) expect(validate(schema, parse(source)).length, source).toBeGreaterThan(0);
    expect(print(documents.MetaDocument)).toContain("_meta");
  });
});
