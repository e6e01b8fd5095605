/**
 * ORA's nested inference through the real keeper service (issue 12 item 4, docs/protocol.md §1.7): an ORA-style
 * consumer (contracts/examples/OAONestedInference.sol) pays for two stages in one call; the first stage's
 * callback, running inside the keeper's commit, makes the second request with the first output as its input.
 * The keeper sees that request on its next tick and answers it too: both requests answered, both callbacks run,
 * both outputs stored by the consumer and equal to what the native executor computes, both finalized.
 */
import { describe, it, expect } from "vitest";
import { network } from "hardhat";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { custom, parseEther, type Hex } from "viem";
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

/** Stage 2: takes stage 1's output tensor (int8 [1,4]) and squares it element-wise. */
function secondModel(): Model {
  return buildModel({
    input: { dtype: DType.int8, shape: [1, 4] },
    weights: [],
    nodes: [{ op: Op.Mul, inputs: [inputSlot(), inputSlot()], outDtype: DType.int8, outShape: [1, 4], attrs: [0, 0, 1 << 30, 34, -10, -128, 127] }],
    metadata: { name: "nested-stage-2", input: unit, output: unit },
  });
}

describe("nested inference through the keeper", () => {
  it("answers both stages: the second request, made inside the first callback, is answered on the next tick", async () => {
    const conn = await network.create();
    const [owner, operator, user] = await conn.viem.getWalletClients();
    const core = await conn.ignition.deploy(OracleDevModule, { parameters: { OracleDev: { treasury: owner!.account.address } } });
    const models = [firstModel(), secondModel()];
    for (const model of models) {
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
    }
    const stake = parseEther("150");
    await core.stakeToken.write.mint([operator!.account.address, stake]);
    await core.stakeToken.write.approve([core.staking.address, stake], { account: operator!.account });
    await core.staking.write.stake([stake], { account: operator!.account });
    const consumer = await conn.viem.deployContract("OAONestedInference", [core.aiOracle.address]);

    const book = new ModelBook();
    book.add(1n, models[0]!);
    book.add(2n, models[1]!);
    const config = parseKeeperConfig({
      rpcUrl: "http://127.0.0.1:8545", // unused: the transport below talks to the in-process chain
      contracts: { aiOracle: core.aiOracle.address, taskManager: core.taskManager.address, staking: core.staking.address },
      dataDir: mkdtempSync(join(tmpdir(), "oao-nested-")),
      models: {},
      confirmations: 0,
    });
    const rt = await createKeeperRuntime(config, OPERATOR_KEY, {
      transport: custom(conn.provider),
      log: createLogger({ level: "silent" }),
      metrics: createMetrics({ defaultMetrics: false }),
      models: book,
    });
    expect(rt.models.ids()).toEqual([1n, 2n]); // both files match the registry
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

    // What the keeper must end up with: stage 2 runs on stage 1's output.
    const input = encodeTensor(int8Tensor([1, 4], [20, -7, 33, 12]));
    const firstOutput = computeClaim(executorFor(models[0]!), input).output;
    const secondOutput = computeClaim(executorFor(models[1]!), firstOutput).output;
    expect(toHex(firstOutput)).not.toBe(toHex(secondOutput));

    const fee = await consumer.read.estimateFee([1n, 2n]);
    await consumer.write.requestChained([1n, 2n, toHex(input) as Hex], { value: fee + parseEther("0.001"), account: user!.account });
    expect(await core.aiOracle.read.requestCount()).toBe(1n);

    // Tick 1: the keeper answers request 1; its callback makes request 2 inside the commit.
    await keeper.tick();
    expect(await core.aiOracle.read.requestCount()).toBe(2n);
    const pipeline = await consumer.read.getPipeline([1n]);
    expect(pipeline.firstOutput).toBe(toHex(firstOutput));
    expect(pipeline.secondRequestId).toBe(2n);
    const second = await core.aiOracle.read.getRequest([2n]);
    expect(second.requester.toLowerCase()).toBe(consumer.address.toLowerCase());
    expect(second.modelId).toBe(2n);
    expect((await core.aiOracle.read.getRequest([1n])).lastCallbackSucceeded).toBe(true);

    // Tick 2: the keeper sees request 2 and answers it; the second callback stores the second output.
    await keeper.tick();
    expect(rt.store.getRequest(2n)?.status).toBe("committed");
    expect((await consumer.read.getPipeline([1n])).secondOutput).toBe(toHex(secondOutput));
    expect((await core.aiOracle.read.getRequest([2n])).lastCallbackSucceeded).toBe(true);
    const committed = await rt.publicClient.getContractEvents({ address: core.taskManager.address, abi: core.taskManager.abi, eventName: "ClaimCommitted", fromBlock: 0n });
    expect(committed.map((e) => e.args.requestId)).toEqual([1n, 2n]);

    // After the window both finalize; the user's margin stays withdrawable from the consumer.
    await conn.networkHelpers.time.increase(3_601);
    await keeper.tick();
    expect(await core.aiOracle.read.isFinalized([1n])).toBe(true);
    expect(await core.aiOracle.read.isFinalized([2n])).toBe(true);
    expect(await consumer.read.balanceOf([user!.account.address])).toBe(parseEther("0.001"));
    rt.close();
  });
});
