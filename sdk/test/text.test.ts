/**
 * Text models through the SDK (docs/protocol.md §1.4, §1.7, §3.3): requestText encodes the prompt as UTF-8 and
 * checks 1..C before sending, getRequest / waitForResult give the trimmed text, decodeText trims and decodes.
 */
import { type Hex, keccak256, parseEther, toHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BaseError,
  PromptLengthError,
  decodeModelDescriptor,
  decodeText,
  encodePrompt,
  getRequest,
  isContractRevertError,
  oaoActions,
  registerModel,
  requestBatch,
  requestInference,
  requestText,
  stake,
  waitForResult,
} from "../src/index.ts";
import { AIOracleAbi } from "../src/abis/generated.ts";
import { InputMode } from "../../keeper/graph/model.ts";
import { syntheticDescriptor } from "../../test/utils/claims.ts";
import { type Deployment, DESCRIPTOR, MIN_STAKE, commit, deploy, modelParams } from "./chain.ts";

const C = 8;
const T = 4;
const TEXT_DESCRIPTOR: Hex = syntheticDescriptor({ nodeCount: 6, inputBytes: C, outputBytes: T, inputMode: InputMode.text });

let d: Deployment;
let textId: bigint;
let fixedId: bigint;

beforeAll(async () => {
  d = await deploy();
  const owner = d.wallet(d.accounts.owner);
  ({ modelId: fixedId } = await registerModel(owner, { address: d.addresses.oracle, ...modelParams, descriptor: DESCRIPTOR, feeReceiver: d.accounts.owner }));
  ({ modelId: textId } = await registerModel(owner, { address: d.addresses.oracle, ...modelParams, descriptor: TEXT_DESCRIPTOR, feeReceiver: d.accounts.owner }));
  await stake(d.wallet(d.accounts.alice), { address: d.addresses.staking, amount: MIN_STAKE + parseEther("50") });
});

afterAll(async () => {
  await d?.close();
});

const requestCount = () => d.publicClient.readContract({ address: d.addresses.oracle, abi: AIOracleAbi, functionName: "requestCount" });

describe("text models in the SDK", () => {
  it("decodeText: the bytes before the first 0x00, UTF-8 with U+FFFD for a cut character; encodePrompt is UTF-8", () => {
    expect(decodeText("0x68690000")).toBe("hi");
    expect(decodeText("0x61626364")).toBe("abcd"); // no 0x00: every byte
    expect(decodeText("0x00616263")).toBe(""); // 0x00 first: the empty text
    expect(decodeText("0x")).toBe("");
    expect(decodeText(new Uint8Array([0x63, 0x61, 0x66, 0xc3, 0xa9, 0, 0x41]))).toBe("café");
    expect(decodeText("0x61c3")).toBe("a\ufffd"); // stopped inside a two-byte character
    expect(() => decodeText("0x123" as Hex)).toThrowError(/even-length/);
    expect(encodePrompt("café")).toEqual(new Uint8Array([0x63, 0x61, 0x66, 0xc3, 0xa9]));
    expect(decodeModelDescriptor(TEXT_DESCRIPTOR).inputMode).toBe("text");
  });

  it("requestText sends the prompt's UTF-8 bytes; getRequest and waitForResult give the text trimmed at the first 0x00", async () => {
    const client = d.wallet(d.accounts.user).extend(oaoActions({ addresses: { oracle: d.addresses.oracle } }));
    const { requestId } = await client.requestText({ modelId: textId, prompt: "hé" });
    const before = await getRequest(d.publicClient, { address: d.addresses.oracle, requestId });
    expect(before).toMatchObject({ textModel: true, inputLength: 3, text: "", output: "0x" });
    expect(before.inputHash).toBe(keccak256(toHex(encodePrompt("hé"))));
    await commit(d, d.accounts.alice, requestId, "0x6f6b0000");
    const result = await waitForResult(d.publicClient, { address: d.addresses.oracle, requestId, until: "committed" });
    expect(result.text).toBe("ok");
    expect(result.output).toBe("0x6f6b0000"); // the claim keeps all T bytes
    // prompts of 1 and C bytes; a fixed model's request has no text
    for (const prompt of ["a", "12345678"]) {
      const r = await requestText(d.wallet(d.accounts.user), { address: d.addresses.oracle, modelId: textId, prompt });
      expect((await getRequest(d.publicClient, { address: d.addresses.oracle, requestId: r.requestId })).inputLength).toBe(prompt.length);
    }
    const fixed = await requestInference(d.wallet(d.accounts.user), { address: d.addresses.oracle, modelId: fixedId, input: "0x0102030405" });
    expect(await getRequest(d.publicClient, { address: d.addresses.oracle, requestId: fixed.requestId })).toMatchObject({ textModel: false, inputLength: 5, text: undefined });
  });

  it("refuses before sending: an empty or too long prompt (PromptLengthError, counting UTF-8 bytes), a model that is not a text model", async () => {
    const before = await requestCount();
    for (const [prompt, given] of [["", 0], ["123456789", 9], ["ééééé", 10]] as const) {
      const err = await requestText(d.wallet(d.accounts.user), { address: d.addresses.oracle, modelId: textId, prompt }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PromptLengthError);
      expect(err).toMatchObject({ modelId: textId, max: C, given });
      expect((err as BaseError).shortMessage).toContain(`model ${textId} takes a prompt of 1 to ${C} bytes, got ${given}`);
    }
    const notText = await requestText(d.wallet(d.accounts.user), { address: d.addresses.oracle, modelId: fixedId, prompt: "hello" }).catch((e: unknown) => e);
    expect((notText as BaseError).name).toBe("InvalidParameterError");
    expect((notText as BaseError).shortMessage).toMatch(/is not a text model \(inputMode 0\): send its input tensor with requestInference/);
    // requestInference and requestBatch apply the same rule to a text model's hex input
    const long = await requestInference(d.wallet(d.accounts.user), { address: d.addresses.oracle, modelId: textId, input: toHex(new Uint8Array(C + 1)) }).catch((e: unknown) => e);
    expect(long).toBeInstanceOf(PromptLengthError);
    const uneven = await requestBatch(d.wallet(d.accounts.user), { address: d.addresses.oracle, modelId: textId, inputs: ["0x6162", "0x616263"] }).catch((e: unknown) => e);
    expect((uneven as BaseError).shortMessage).toMatch(/prompts of one byte length/);
    const unknown = await requestText(d.wallet(d.accounts.user), { address: d.addresses.oracle, modelId: 77n, prompt: "a" }).catch((e: unknown) => e);
    expect(isContractRevertError(unknown, "UnknownModel")).toBe(true);
    expect(await requestCount()).toBe(before);
    // a batch of equal prompts goes through
    const batch = await requestBatch(d.wallet(d.accounts.user), { address: d.addresses.oracle, modelId: textId, inputs: ["0x6162", "0x6364"] });
    expect(batch.requestIds).toHaveLength(2);
  });
});
