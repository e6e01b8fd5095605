/**
 * The parts of the dispute game's and the preimage oracle's ABIs the keeper uses
 * (contracts/dispute/interfaces/IFaultDisputeGame.sol, contracts/vm/interfaces/IPreimageOracle.sol),
 * as `as const` ABIs so viem types every call. Written out here because the game contract lands on
 * main after the keeper side; once it does, sdk/src/abis/generated.ts carries the same entries and
 * test/dispute-keeper checks the two agree.
 */
import { parseAbi } from "viem";

export const disputeGameAbi = parseAbi([
  "function moveGraph(bytes32[] states, bytes32[][] proofs)",
  "function postFinalVmState(bytes32 vmStateHash)",
  "function moveVm(bytes32[] vmStateHashes)",
  "function step(bytes preState, bytes proof)",
  "function claimTimeout()",
  "function phase() view returns (uint8)",
  "function range() view returns (uint256 lo, uint256 hi)",
  "function roundPoints() view returns (uint256[])",
  "function hasPosted(uint8 side) view returns (bool)",
  "function roundValues(uint8 side) view returns (bytes32[])",
  "function agreedValue() view returns (bytes32)",
  "function disputedValues() view returns (bytes32 defender, bytes32 challenger)",
  "function nodeIndex() view returns (uint256)",
  "function vmInputs() view returns (bytes32 modelRoot, uint256 nodeIndex, bytes32 preState, bytes32 postState)",
  "function localContext() view returns (bytes32)",
  "function clock(uint8 side) view returns (uint64 usedSeconds, uint64 runningSince)",
  "function stepDeadline() view returns (uint64)",
  "function winner() view returns (uint8)",
  "function player(uint8 side) view returns (address)",
  "function traceRoot(uint8 side) view returns (bytes32)",
  "function absolutePrestate() view returns (bytes32)",
  "function nodeCount() view returns (uint256)",
  "function requestId() view returns (uint256)",
  "function defenderClaimId() view returns (uint256)",
  "function challengerClaimId() view returns (uint256)",
  "function preimageOracle() view returns (address)",
  "function clockDuration() view returns (uint64)",
  "function graphWidthBits() view returns (uint8)",
  "function vmWidthBits() view returns (uint8)",
  "function vmTraceDepth() view returns (uint8)",
  "event GameMoved(uint8 side, uint8 phase, uint256 lo, uint256 hi, bytes32[] values)",
  "event RangeNarrowed(uint8 phase, uint256 lo, uint256 hi)",
  "event PhaseStarted(uint8 phase, uint256 lo, uint256 hi)",
  "event VmInputsBound(uint256 nodeIndex, bytes32 preState, bytes32 postState, bytes32 localContext)",
  "event GameStepped(bytes32 postState)",
  "event GameResolved(uint8 winner)",
]);

export const preimageOracleAbi = parseAbi([
  "function readPreimage(bytes32 key, uint256 offset) view returns (bytes32 part, uint256 partLen)",
  "function loadKeccak256PreimagePart(uint256 partOffset, bytes preimage)",
]);
