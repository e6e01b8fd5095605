/**
 * One game at a time per standing claim (docs/protocol.md §1.6) and undecided games (§5.4), as the SDK sees
 * them on the JSON-RPC chain with the toy game: a second challenge is queued (status Challenged, claim
 * `Queued`), releasing it while its target stands reverts with a typed ChallengeNotReleasable, the queue's
 * head gets its game when the defender wins, and an undecided game cancels the request (getRequest
 * `Cancelled`, waitForResult's RequestCancelledError, then `expire` refunds it).
 */
import { type Address, parseEther, zeroAddress } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskManagerAbi } from "../src/abis/generated.ts";
import {
  ContractRevertError,
  RequestCancelledError,
  RequestExpiredError,
  claimStatuses,
  getRequest,
  isContractRevertError,
  registerModel,
  requestInference,
  stake,
  toOaoError,
  waitForResult,
} from "../src/index.ts";
import { type Deployment, MIN_STAKE, challenge, commit, deploy, expire, modelParams, resolveGame } from "./chain.ts";

let d: Deployment;
let modelId: bigint;

const readTm = <T>(functionName: string, args: readonly unknown[]) =>
  d.publicClient.readContract({ address: d.addresses.taskManager, abi: TaskManagerAbi, functionName, args } as never) as Promise<T>;
const claimStatus = async (claimId: bigint) => claimStatuses[(await readTm<{ status: number }>("getClaim", [claimId])).status];
const status = async (requestId: bigint) => (await getRequest(d.publicClient, { address: d.addresses.oracle, requestId })).status;

async function releaseChallenge(claimId: bigint, from: Address): Promise<void> {
  try {
    const { request } = await d.publicClient.simulateContract({
      address: d.addresses.taskManager,
      abi: TaskManagerAbi,
      functionName: "releaseChallenge",
      args: [claimId],
      account: from,
    });
    await d.publicClient.waitForTransactionReceipt({ hash: await d.wallet(from).writeContract(request) });
  } catch (err) {
    throw toOaoError(err, "releaseChallenge");
  }
}

/** A request answered by alice with 0x07 (claim `first`), challenged by bob (0x03) and, queued, by carol (0x04). */
async function challengedTwice() {
  const { requestId } = await requestInference(d.wallet(d.accounts.user), { address: d.addresses.oracle, modelId, input: "0x0102030405" });
  await commit(d, d.accounts.alice, requestId, "0x07");
  const first = await readTm<bigint>("claimCount", []);
  const game = await challenge(d, d.accounts.bob, requestId, "0x03");
  const queuedGame = await challenge(d, d.accounts.carol, requestId, "0x04");
  return { requestId, defender: first, challenger: first + 1n, queued: first + 2n, game, queuedGame };
}

beforeAll(async () => {
  d = await deploy();
  ({ modelId } = await registerModel(d.wallet(d.accounts.owner), { address: d.addresses.oracle, ...modelParams, feeReceiver: d.accounts.owner }));
  for (const who of [d.accounts.alice, d.accounts.bob, d.accounts.carol]) {
    await stake(d.wallet(who), { address: d.addresses.staking, amount: MIN_STAKE + parseEther("50") });
  }
});

afterAll(async () => {
  await d?.close();
});

describe("queued challenges and undecided games", () => {
  it("an undecided game cancels the request: getRequest says Cancelled, waitForResult throws, expire refunds", async () => {
    const { requestId, defender, challenger, queued, game } = await challengedTwice();
    const waiting = waitForResult(d.publicClient, { address: d.addresses.oracle, requestId, pollingInterval: 20 }).catch((e: unknown) => e);
    await resolveGame(d, game, 2);
    expect(await status(requestId)).toBe("Cancelled");
    expect(await claimStatus(defender)).toBe("Released");
    expect(await claimStatus(challenger)).toBe("Released");
    const cancelled = await waiting;
    expect(cancelled).toBeInstanceOf(RequestCancelledError);
    expect((cancelled as RequestCancelledError).requestId).toBe(requestId);
    expect((cancelled as RequestCancelledError).shortMessage).toContain("cancelled");

    // The queued challenge's target no longer stands: anyone may release it now.
    await releaseChallenge(queued, d.accounts.owner);
    expect(await claimStatus(queued)).toBe("Released");

    await expire(d, requestId);
    expect(await status(requestId)).toBe("Refunded");
    const after = await waitForResult(d.publicClient, { address: d.addresses.oracle, requestId, pollingInterval: 20 }).catch((e: unknown) => e);
    expect(after).toBeInstanceOf(RequestExpiredError);
  });

  // Last: the defender wins both games here, so bob and carol end jailed.
  it("a second challenge is queued; releasing it while its target stands is a typed ChallengeNotReleasable; it plays next", async () => {
    const { requestId, defender, challenger, queued, game, queuedGame } = await challengedTwice();
    expect(game).not.toBe(zeroAddress);
    expect(queuedGame).toBe(zeroAddress);
    expect(await claimStatus(challenger)).toBe("Challenging");
    expect(await claimStatus(queued)).toBe("Queued");
    expect((await readTm<{ openGames: number }>("getClaim", [defender])).openGames).toBe(2);
    expect(await status(requestId)).toBe("Challenged");

    const refused = await releaseChallenge(queued, d.accounts.owner).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ContractRevertError);
    if (!isContractRevertError(refused, "ChallengeNotReleasable")) throw new Error("expected ChallengeNotReleasable");
    const [claimId, claimState, target, targetState] = refused.args;
    expect([claimId, claimStatuses[claimState], target, claimStatuses[targetState]]).toEqual([queued, "Queued", defender, "Standing"]);
    expect(refused.shortMessage).toContain(`ChallengeNotReleasable(${queued}, 6, ${defender}, 1)`);

    // The defender wins the first game: carol's queued claim gets its game at once.
    await resolveGame(d, game, 0);
    expect(await claimStatus(challenger)).toBe("Defeated");
    expect(await claimStatus(queued)).toBe("Challenging");
    const next = await readTm<Address>("activeGame", [defender]);
    expect(next).not.toBe(zeroAddress);
    expect(await status(requestId)).toBe("Challenged");
    await resolveGame(d, next, 0);
    expect(await status(requestId)).toBe("Committed");
  });
});
