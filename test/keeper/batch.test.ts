/**
 * ORA's batch request through the real keeper service (issue 17, docs/protocol.md §1.2): `requestBatchInference`
 * with ORA's signature makes one ordinary request per item, each with its own AICallbackRequest event, so the keeper
 * answers every item with no batch-specific code: each item committed with the output the native executor computes
 * for that item's input, each callback run with its own output, each finalized.
 */
import { describe, it, expect } from "vitest";
import { network } from "hardhat";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { concatHex, custom, parseEther, type Hex } from "viem";
import { OracleDevModule } from "../../ignition/modules/dev/OracleDev.ts";
import { parseKeeperConfig } from "../../keeper/src/service/config.ts";
import { createKeeperRuntime } from "../../keeper/src/service/runtime.ts";
import { createKeeper } from "../../keeper/src/service/keeper.ts";
import { createLogger } from "../../keeper/src/service/logger.ts";
import { createMetrics } from "../../keeper/src/service/metrics.ts";
import { executorFor, ModelBook } from "../../keeper/src/service/models.ts";
import { computeClaim } from "../../keeper/src/service/inference.ts";
import { buildModel, type Model } from "../../keeper/graph/model.ts";
import { Op, inputSlot, nodeSlot, weightSlot } from "../../keeper/graph/ops.ts";
import { DType, int32Tensor, int8Tensor } from "../../keeper/graph/tensor.ts";
import { encodeTensor, toHex } from "../../keeper/graph/index.ts";
import prestate from "../../keeper/guest/node/prestate.json" with { type: "json" };

const OPERATOR_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" as const; // account 1
const unit = { scale: 1, zeroPoint: 0 };

/** Stage 1: a dense layer and a ReLU over an int8 [1,4] input. */
function firstModel(): Model {
  return buildModel({
    input: { dtype: DType.int8, shape: [1, 4] },
    weights: [int8Tensor([4, 4], [3, -1, 2, 0, 1, 1, -2, 4, -3, 2, 1, 1, 0, -1, 5, 2]), int32Tensor([4], [7, -8, 9, 10])],
    nodes: [
      { op: Op.Gemm, inputs: [inputSlot(), weightSlot(0), weightSlot(1)], outDtype: DType.int8, outShape: [1, 4], attrs: [2, 0, 1 << 30, 33, 0, -128, 127] },
      { op: Op.Relu, inputs: [nodeSlot(1)], outDtype: DType.int8, outShape: [1, 4], attrs: [0] },
    ],
    metadata: { name: "nested-stage-1", input: unit, output: unit },
  });
}

describe("batch requests through the keeper", () => {
  it("answers every item of an ORA batch as its own request", async () => {
    const conn = await network.create();
    const [owner, operator, user] = await conn.viem.getWalletClients();
    const core = await conn.ignition.deploy(OracleDevModule, { parameters: { OracleDev: { treasury: owner!.account.address } } });
    const model = firstModel();
    await core.aiOracle.write.registerModel([
      {
        descriptor: toHex(model.descriptor) as Hex,
        absolutePrestate: prestate.absolutePrestate as Hex,
        fee: parseEther("0.01"),
        feeReceiver: owner!.account.address,
        feeShareBps: 1_000,
        metadataURI: "",
      },
    ]);
    const stake = parseEther("150");
    await core.stakeToken.write.mint([operator!.account.address, stake]);
    await core.stakeToken.write.approve([core.staking.address, stake], { account: operator!.account });
    await core.staking.write.stake([stake], { account: operator!.account });
    const receiver = await conn.viem.deployContract("RecordingReceiver", [core.aiOracle.address]);

    const book = new ModelBook();
    book.add(1n, model);
    const config = parseKeeperConfig({
      rpcUrl: "http://127.0.0.1:8545", // unused: the transport below talks to the in-process chain
      contracts: { aiOracle: core.aiOracle.address, taskManager: core.taskManager.address, staking: core.staking.address },
      dataDir: mkdtempSync(join(tmpdir(), "oao-batch-")),
      models: {},
      confirmations: 0,
    });
    const rt = await createKeeperRuntime(config, OPERATOR_KEY, {
      transport: custom(conn.provider),
      log: createLogger({ level: "silent" }),
      metrics: createMetrics({ defaultMetrics: false }),
      models: book,
    });
    const keeper = createKeeper({
      publicClient: rt.publicClient,
      responder: rt.responder,
      addresses: rt.config.contracts,
      store: rt.store,
      models: rt.models,
      log: rt.log,
      metrics: rt.metrics,
      confirmations: 0,
      fromBlock: 0n,
    });

    const items = [
      [20, -7, 33, 12],
      [-1, 2, -3, 4],
      [100, 0, -100, 50],
    ].map((v) => encodeTensor(int8Tensor([1, 4], v)));
    const expected = items.map((input) => toHex(computeClaim(executorFor(model), input).output));
    const gasLimit = 200_000n;
    const fee = await core.aiOracle.read.estimateFeeBatch([1n, gasLimit, 3n]);
    expect(fee).toBe(3n * (await core.aiOracle.read.estimateFee([1n, gasLimit])));
    const batchInput = concatHex(items.map((i) => toHex(i) as Hex));
    await core.aiOracle.write.requestBatchInference([3n, 1n, batchInput, receiver.address, gasLimit, "0xba", 0, 0], {
      value: fee,
      account: user!.account,
    });
    expect(await core.aiOracle.read.requestCount()).toBe(3n);

    await keeper.tick();
    const committed = await rt.publicClient.getContractEvents({ address: core.taskManager.address, abi: core.taskManager.abi, eventName: "ClaimCommitted", fromBlock: 0n });
    expect(committed.map((e) => e.args.requestId)).toEqual([1n, 2n, 3n]);
    expect(committed.map((e) => e.args.output)).toEqual(expected);
    expect(await receiver.read.deliveryCount()).toBe(3n);
    for (let i = 0; i < 3; i++) {
      const delivery = await receiver.read.deliveryAt([BigInt(i)]);
      expect(delivery.requestId).toBe(BigInt(i + 1));
      expect(delivery.output).toBe(expected[i]);
      expect(delivery.callbackData).toBe("0xba");
    }

    await conn.networkHelpers.time.increase(3_601);
    await keeper.tick();
    for (const id of [1n, 2n, 3n]) expect(await core.aiOracle.read.isFinalized([id])).toBe(true);
    rt.close();
  });
});
