// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {GraphTrace} from "./GraphTrace.sol";
import {GraphCommitments} from "../../../contracts/lib/GraphCommitments.sol";

import {AIOracle} from "../../../contracts/oracle/AIOracle.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {TaskManager} from "../../../contracts/task/TaskManager.sol";
import {IAIOracleExtended} from "../../../contracts/interfaces/IAIOracleExtended.sol";
import {IStaking} from "../../../contracts/interfaces/IStaking.sol";
import {IDisputeGameFactory} from "../../../contracts/interfaces/IDisputeGame.sol";
import {MockStakeToken} from "../../../contracts/mocks/MockStakeToken.sol";
import {ToyDisputeGame, ToyDisputeGameFactory} from "../../../contracts/mocks/ToyDisputeGame.sol";
import {
    ClaimOpening, DeliveryMode, GameWinner, ModelParams, OracleConfig, RequestHeader, RequestParams
} from "../../../contracts/lib/Types.sol";

/// @dev The whole core deployed and wired as the production modules do, with a toy dispute game, one model and
/// three staked operators.
abstract contract CoreFixture is Test {
    /// @dev The openings of the claims this fixture posted (what a keeper reads from their events).
    mapping(uint256 claimId => ClaimOpening) internal _openings;

    uint256 internal constant MIN_STAKE = 100 ether;
    uint128 internal constant BOND = 10 ether;
    uint64 internal constant WINDOW = 1 hours;
    uint64 internal constant UNBONDING = 7 days;
    uint64 internal constant JAIL = 3 days;
    uint16 internal constant WINNER_BPS = 5_000;
    uint16 internal constant REQUESTER_BPS = 2_000;
    uint64 internal constant TIMEOUT = 1 hours;
    uint64 internal constant MAX_GAS = 5_000_000;
    uint256 internal constant GAS_PRICE = 1 gwei;
    uint256 internal constant PROTOCOL_FEE = 0.001 ether;
    uint96 internal constant MODEL_FEE = 0.01 ether;
    uint16 internal constant MODEL_SHARE_BPS = 3_000;
    uint32 internal constant MAX_OUTPUT = 4096;
    uint64 internal constant CB_GAS = 200_000;

    MockStakeToken internal token;
    AIOracle internal oracle;
    Staking internal staking;
    TaskManager internal tm;
    ToyDisputeGameFactory internal factory;

    address internal owner = makeAddr("owner");
    address internal treasury = makeAddr("treasury");
    address internal stakingTreasury = makeAddr("stakingTreasury");
    address internal referee = makeAddr("referee");
    address internal modelOwner = makeAddr("modelOwner");
    address internal modelFeeReceiver = makeAddr("modelFeeReceiver");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal user = makeAddr("user");
    address internal keeper = makeAddr("keeper");

    uint256 internal modelId;

    bytes internal constant INPUT = hex"0102030405";
    bytes internal constant OUTPUT_A = hex"07";
    bytes internal constant OUTPUT_B = hex"03";
    bytes internal constant OUTPUT_C = hex"05";
    /// @dev Salts of the claims' intermediate node outputs: `_proof(output, TRACE_X)` is a claim on `output` whose
    /// node k < n output hash is keccak256(TRACE_X, k) (see {_trace}).
    bytes32 internal constant TRACE_A = keccak256("traceA");
    bytes32 internal constant TRACE_B = keccak256("traceB");
    bytes32 internal constant TRACE_C = keccak256("traceC");
    /// @dev The fixture model (docs/protocol.md §3.3): 6 nodes, an int8 [5] input, an int8 [1] output.
    uint32 internal constant NODES = 6;
    bytes32 internal constant WEIGHTS_ROOT = keccak256("weights");

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        token = new MockStakeToken();
        oracle = new AIOracle(
            OracleConfig({
                owner: owner,
                treasury: treasury,
                callbackGasPrice: GAS_PRICE,
                minCallbackGasPrice: 0.01 gwei,
                maxCallbackGasPrice: 1000 gwei,
                protocolFee: PROTOCOL_FEE,
                maxProtocolFee: 1 ether,
                maxCallbackGasLimit: MAX_GAS,
                requestTimeout: TIMEOUT
            })
        );
        staking = new Staking(token, owner, stakingTreasury, MIN_STAKE, UNBONDING, JAIL, WINNER_BPS, REQUESTER_BPS);
        tm = new TaskManager(
            IAIOracleExtended(address(oracle)),
            IStaking(address(staking)),
            IDisputeGameFactory(_deployGameFactory()),
            owner,
            WINDOW,
            BOND,
            MAX_OUTPUT
        );
        vm.startPrank(owner);
        oracle.setTaskManager(address(tm));
        staking.setSlasher(address(tm), true);
        vm.stopPrank();
        _afterTaskManagerDeployed();

        vm.prank(modelOwner);
        modelId = oracle.registerModel(_modelParams());

        _fundAndStake(alice, MIN_STAKE + 50 ether);
        _fundAndStake(bob, MIN_STAKE + 50 ether);
        _fundAndStake(carol, MIN_STAKE + 50 ether);
        vm.deal(user, 100 ether);
        vm.deal(keeper, 1 ether);
    }

    /// @dev The game factory the task manager uses: the toy one, whose games a referee decides.
    function _deployGameFactory() internal virtual returns (address) {
        factory = new ToyDisputeGameFactory(referee);
        return address(factory);
    }

    function _afterTaskManagerDeployed() internal virtual {}

    function _modelParams() internal pure returns (ModelParams memory) {
        return ModelParams({
            descriptor: GraphTrace.descriptor(NODES, WEIGHTS_ROOT, GraphTrace.int8Header(5), GraphTrace.int8Header(1)),
            absolutePrestate: keccak256("guest-prestate"),
            fee: MODEL_FEE,
            feeReceiver: address(0xFEE),
            feeShareBps: MODEL_SHARE_BPS,
            metadataURI: "ipfs://mnist"
        });
    }

    /// @dev The graph-state trace of a claim on `output` for a request with input INPUT: node k < n outputs
    /// keccak256(salt, k), node n the output tensor.
    function _trace(bytes memory output, bytes32 salt) internal pure returns (GraphTrace.Trace memory) {
        bytes32[] memory outs = new bytes32[](NODES);
        for (uint256 k = 1; k < NODES; ++k) outs[k - 1] = keccak256(abi.encode(salt, k));
        outs[NODES - 1] = GraphCommitments.tensorHash(GraphTrace.int8Header(1), output);
        bytes32 inputHash = keccak256(abi.encodePacked(GraphTrace.int8Header(5), keccak256(INPUT)));
        return GraphTrace.build(inputHash, WEIGHTS_ROOT, outs);
    }

    /// @dev The opening (trace root, State_n) of the claim `_proof(output, salt)` posts.
    function _opening(bytes memory output, bytes32 salt) internal pure returns (ClaimOpening memory) {
        GraphTrace.Trace memory t = _trace(output, salt);
        return ClaimOpening({traceRoot: t.traceRoot, finalState: t.states[t.states.length - 1]});
    }

    /// @dev The §3.5 proof of a claim on `output` (see {_trace}).
    function _proof(bytes memory output, bytes32 salt) internal pure returns (GraphCommitments.ClaimProof memory) {
        return GraphTrace.claimProof(_trace(output, salt));
    }

    /// @dev The §3.5 proof of a claim on `output` for request `id`, whatever its input and model: node k < n
    /// outputs keccak256(salt, k), node n the output tensor.
    function _proofFor(uint256 id, bytes memory output, bytes32 salt)
        internal
        view
        returns (GraphCommitments.ClaimProof memory)
    {
        RequestHeader memory request = oracle.getRequestHeader(id);
        GraphCommitments.ModelCommitment memory m = oracle.getModelCommitment(request.modelId);
        bytes32[] memory outs = new bytes32[](m.nodeCount);
        for (uint256 k = 1; k < m.nodeCount; ++k) outs[k - 1] = keccak256(abi.encode(salt, k));
        outs[m.nodeCount - 1] = GraphCommitments.tensorHash(m.outputHeader, output);
        bytes32 inputHash = GraphCommitments.requestInputHash(m.inputMode, m.inputHeader, request.inputHash, request.inputLength);
        return GraphTrace.claimProof(GraphTrace.build(inputHash, m.weightsRoot, outs));
    }

    /// @dev The opening (trace root, State_n) of the claim `_proofFor(id, output, salt)` posts.
    function _openingFor(uint256 id, bytes memory output, bytes32 salt) internal view returns (ClaimOpening memory) {
        GraphCommitments.ClaimProof memory p = _proofFor(id, output, salt);
        RequestHeader memory request = oracle.getRequestHeader(id);
        GraphCommitments.ModelCommitment memory m = oracle.getModelCommitment(request.modelId);
        bytes32 inputHash = GraphCommitments.requestInputHash(m.inputMode, m.inputHeader, request.inputHash, request.inputLength);
        return ClaimOpening({traceRoot: p.traceRoot, finalState: GraphCommitments.stateHash(inputHash, m.weightsRoot, p.finalNodesRoot)});
    }

    /// @dev The opening of request `id`'s standing claim, as a keeper reads it from the claim's event: recorded by
    /// {_commit} and {_challenge} (a test that posts a claim directly records it with {_record}).
    function _standingOpening(uint256 id) internal view returns (ClaimOpening memory o) {
        uint256 claimId = tm.getTask(id).standingClaimId;
        o = _openings[claimId];
        require(o.traceRoot != bytes32(0), "CoreFixture: no recorded opening for the standing claim");
    }

    function _record(uint256 claimId, uint256 id, bytes memory output, bytes32 salt) internal {
        _openings[claimId] = _openingFor(id, output, salt);
    }

    function _zeroRootProof() internal pure returns (GraphCommitments.ClaimProof memory p) {
        p = _proof(OUTPUT_A, TRACE_A);
        p.traceRoot = 0;
    }

    function _fundAndStake(address who, uint256 amount) internal {
        token.mint(who, amount);
        vm.startPrank(who);
        token.approve(address(staking), amount);
        staking.stake(amount);
        vm.stopPrank();
    }

    /// @dev An OAO request from `user` without a callback.
    function _requestNoCallback() internal returns (uint256 id) {
        uint256 fee = oracle.estimateFee(modelId, 0);
        vm.prank(user);
        id = oracle.requestCallback{value: fee}(modelId, INPUT, address(0), 0, "");
    }

    function _requestFrom(address requester, address callback, uint64 gasLimit, DeliveryMode mode)
        internal
        returns (uint256 id)
    {
        uint256 fee = oracle.estimateFee(modelId, gasLimit);
        vm.deal(requester, requester.balance + fee);
        vm.prank(requester);
        id = oracle.requestWithOptions{value: fee}(
            RequestParams({
                modelId: modelId,
                input: INPUT,
                callbackContract: callback,
                gasLimit: gasLimit,
                callbackData: hex"c0ffee",
                deliveryMode: mode,
                deadline: 0,
                maxFee: fee,
                refundRecipient: address(0)
            })
        );
    }

    function _commit(address operator, uint256 id, bytes memory output, bytes32 traceRoot)
        internal
        returns (uint256 claimId)
    {
        GraphCommitments.ClaimProof memory proof = _proofFor(id, output, traceRoot);
        vm.prank(operator);
        claimId = tm.commit{gas: 5_000_000}(id, output, proof);
        _record(claimId, id, output, traceRoot);
    }

    function _challenge(address operator, uint256 id, bytes memory output, bytes32 traceRoot)
        internal
        returns (uint256 claimId, ToyDisputeGame game)
    {
        GraphCommitments.ClaimProof memory proof = _proofFor(id, output, traceRoot);
        address g;
        ClaimOpening memory standing = _standingOpening(id);
        vm.prank(operator);
        (claimId, g) = tm.challenge(id, output, proof, standing);
        _record(claimId, id, output, traceRoot);
        game = ToyDisputeGame(g);
    }

    function _resolve(ToyDisputeGame game, GameWinner winner) internal {
        vm.prank(referee);
        game.resolve(winner);
    }

    function _finalize(uint256 id) internal {
        vm.prank(keeper);
        tm.finalize{gas: 5_000_000}(id);
    }
}
