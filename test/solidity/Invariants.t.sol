// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CoreFixture} from "./utils/CoreFixture.sol";
import {RecordingReceiver} from "../../contracts/mocks/RecordingReceiver.sol";
import {RevertingReceiver} from "../../contracts/mocks/HostileReceivers.sol";
import {ToyDisputeGame} from "../../contracts/mocks/ToyDisputeGame.sol";
import {IAIOracle} from "../../contracts/interfaces/IAIOracle.sol";
import {
    Claim, ClaimOpening, ClaimStatus, DeliveryMode, FeeState, Game, GameStatus, GameWinner, Request, RequestStatus
} from "../../contracts/lib/Types.sol";

/// @dev An ORA-style consumer: forwards its caller's payment, has no receive() and no way to move ETH or tokens.
contract StuckProneConsumer {
    function ask(IAIOracle oracle, uint256 modelId, bytes calldata input, address cb, uint64 gasLimit)
        external
        payable
        returns (uint256)
    {
        return oracle.requestCallback{value: msg.value}(modelId, input, cb, gasLimit, "");
    }
}

/// @dev Random walks over the whole lifecycle (requests, commits, challenges, games, finalize, deliver, expire,
/// time), then the invariants of DESIGN §4: every wei and every stake token accounted for, no request both
/// refunded and delivered, no double finalization, locks (all the task manager's) equal to the bonds of live claims.
contract InvariantsTest is CoreFixture {
    uint256 internal constant STEPS = 40;

    RecordingReceiver internal recorder;
    RevertingReceiver internal reverter;
    StuckProneConsumer internal consumer;
    address[] internal operators;
    mapping(uint256 requestId => bool) internal cancelled;

    function setUp() public override {
        super.setUp();
        recorder = new RecordingReceiver(oracle);
        reverter = new RevertingReceiver();
        consumer = new StuckProneConsumer();
        operators.push(alice);
        operators.push(bob);
        operators.push(carol);
    }

    function testFuzz_lifecycle_conservesFundsAndStake(uint256 seed) public {
        uint256 paidIn;
        for (uint256 i = 0; i < STEPS; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 action = r % 16;
            r >>= 8;
            uint256 count = oracle.requestCount();
            // Mostly act on the latest requests, where something can still happen.
            uint256 id = count == 0 ? 1 : count - ((r % 4) % count);
            r >>= 16;
            address op = operators[r % 3];
            r >>= 8;
            if (action < 3 || count == 0) {
                paidIn += _randomRequest(r);
            } else if (action < 6) {
                vm.prank(op);
                try tm.commit{gas: 3_000_000}(id, _output(r), _proof(_output(r), keccak256(abi.encode(r)))) returns (uint256 c) {
                    _openings[c] = _opening(_output(r), keccak256(abi.encode(r)));
                } catch {}
            } else if (action < 8) {
                // The standing claim's opening as its event has it (zero when there is none: the challenge fails).
                ClaimOpening memory standing = _openings[tm.getTask(id).standingClaimId];
                vm.prank(op);
                // Opens a game, or queues the claim behind the open one.
                try tm.challenge(id, _output(r), _proof(_output(r), keccak256(abi.encode(r, 1))), standing) returns (uint256 c, address) {
                    _openings[c] = _opening(_output(r), keccak256(abi.encode(r, 1)));
                } catch {}
            } else if (action < 10 && factory.gameCount() != 0) {
                uint256 n = factory.gameCount();
                ToyDisputeGame g = ToyDisputeGame(factory.gameAt(n - 1 - (r % 2) % n));
                if (!g.resolved()) _resolveRandom(g, r >> 8);
            } else if (action == 10) {
                // Anyone may release a queued claim whose target stopped standing.
                uint256 claimCount = tm.claimCount();
                if (claimCount != 0) try tm.releaseChallenge(1 + r % claimCount) {} catch {}
            } else if (action < 12) {
                vm.prank(keeper);
                try tm.finalize{gas: 3_000_000}(id) {} catch {}
            } else if (action == 12) {
                vm.prank(keeper);
                try tm.deliver{gas: 3_000_000}(id) {} catch {}
            } else if (action == 13) {
                vm.prank(keeper);
                try tm.expire{gas: 3_000_000}(id) {} catch {}
            } else {
                vm.warp(block.timestamp + (r % WINDOW));
            }
        }
        _checkInvariants(paidIn);
        _drain(seed);
        _checkInvariants(paidIn);
        // After the drain every request is settled or refunded: nothing is stuck.
        for (uint256 id = 1; id <= oracle.requestCount(); ++id) {
            assertTrue(oracle.getRequest(id).feeState != FeeState.Escrowed);
        }
    }

    /// @dev Defender, challenger or (rarely) undecided; records requests a game cancelled.
    function _resolveRandom(ToyDisputeGame g, uint256 r) internal {
        uint256 pick = r % 9;
        GameWinner w = pick < 4 ? GameWinner.Defender : pick < 8 ? GameWinner.Challenger : GameWinner.Undecided;
        _resolve(g, w);
        if (w == GameWinner.Undecided) cancelled[g.requestId()] = true;
    }

    /// @dev Resolve every open game (resolutions open the queued ones: loop until none is left), release every
    /// releasable queued claim, let all windows and deadlines pass, then finalize, deliver or expire all.
    function _drain(uint256 seed) internal {
        for (uint256 i = 0; i < factory.gameCount(); ++i) {
            ToyDisputeGame g = ToyDisputeGame(factory.gameAt(i));
            if (g.resolved()) continue;
            _resolveRandom(g, uint256(keccak256(abi.encode(seed, "drain", i))));
        }
        for (uint256 c = 1; c <= tm.claimCount(); ++c) {
            if (tm.getClaim(c).status == ClaimStatus.Queued) tm.releaseChallenge(c);
        }
        vm.warp(block.timestamp + WINDOW + TIMEOUT + 1);
        for (uint256 id = 1; id <= oracle.requestCount(); ++id) {
            vm.startPrank(keeper);
            try tm.deliver{gas: 3_000_000}(id) {} catch {}
            try tm.finalize{gas: 3_000_000}(id) {} catch {}
            try tm.expire{gas: 3_000_000}(id) {} catch {}
            vm.stopPrank();
        }
    }

    function _output(uint256 r) internal pure returns (bytes memory) {
        return abi.encodePacked(uint8(r % 3));
    }

    function _randomRequest(uint256 r) internal returns (uint256 fee) {
        uint256 kind = r % 3;
        address cb = kind == 0 ? address(0) : kind == 1 ? address(recorder) : address(reverter);
        uint64 gasLimit = cb == address(0) ? 0 : uint64(50_000 + (r >> 4) % 300_000);
        DeliveryMode mode = (r >> 32) % 2 == 0 ? DeliveryMode.AtCommit : DeliveryMode.AtFinality;
        fee = oracle.estimateFee(modelId, gasLimit);
        if ((r >> 40) % 3 == 0) {
            // Through a consumer that cannot take ETH, overpaying: the excess (and later refunds, slash shares) must
            // reach the user, never stay with the consumer (docs/protocol.md §1.5).
            vm.deal(user, user.balance + fee + 1 ether);
            vm.prank(user, user);
            consumer.ask{value: fee + 1 ether}(oracle, modelId, INPUT, cb, gasLimit);
            return fee;
        }
        _requestFrom(user, cb, gasLimit, mode);
    }

    function _checkInvariants(uint256 paidIn) internal {
        uint256 count = oracle.requestCount();
        uint256 escrowed;
        uint256 refunded;
        for (uint256 id = 1; id <= count; ++id) {
            Request memory q = oracle.getRequest(id);
            RequestStatus status = tm.getStatus(id);
            if (q.feeState == FeeState.Escrowed) {
                escrowed += uint256(q.modelFee) + q.protocolFee + (q.callbackFeePaid ? 0 : q.callbackFee);
                assertFalse(oracle.isFinalized(id));
            } else if (q.feeState == FeeState.Refunded) {
                // Never both refunded and delivered, unless a game cancelled an AtCommit request after its first
                // delivery (its output could not be verified, §5.4).
                assertEq(uint8(status), uint8(RequestStatus.Refunded));
                if (!cancelled[id]) assertEq(q.deliveries, 0);
                assertFalse(oracle.isFinalized(id));
                refunded += uint256(q.modelFee) + q.protocolFee + (q.callbackContract == address(0) ? q.callbackFee : 0);
            } else {
                assertEq(uint8(q.feeState), uint8(FeeState.Settled));
                assertEq(uint8(status), uint8(RequestStatus.Delivered));
                assertTrue(oracle.isFinalized(id));
                assertGe(q.deliveries, 1);
                // The delivered output is the final one.
                assertEq(tm.getTask(id).deliveredOutputHash, oracle.getOutputHash(id));
                // No double finalization.
                vm.expectRevert();
                tm.finalize(id);
            }
        }

        // ETH: everything paid in is escrowed, credited, or went back to the requester.
        address[8] memory accounts = [alice, bob, carol, keeper, treasury, address(0xFEE), user, address(recorder)];
        uint256 credited;
        for (uint256 i = 0; i < accounts.length; ++i) {
            credited += oracle.pendingWithdrawal(accounts[i]);
        }
        assertEq(address(oracle).balance, escrowed + credited);
        assertEq(paidIn, escrowed + credited + refunded);
        // Nothing is left with the consumer that could not use it.
        assertEq(address(consumer).balance, 0);
        assertEq(oracle.pendingWithdrawal(address(consumer)), 0);
        assertEq(token.balanceOf(address(consumer)), 0);

        // Stake tokens: the staking contract holds exactly the stakes (and credits), the rest are shares paid out.
        uint256 held;
        for (uint256 i = 0; i < operators.length; ++i) {
            held += uint256(staking.getAccount(operators[i]).active) + staking.getAccount(operators[i]).unbonding;
        }
        assertEq(token.balanceOf(address(staking)), held);
        uint256 outside = token.balanceOf(alice) + token.balanceOf(bob) + token.balanceOf(carol)
            + token.balanceOf(user) + token.balanceOf(stakingTreasury);
        assertEq(token.totalSupply(), held + outside);

        // Locks equal the bonds of each operator's live claims (standing, in a game, or queued for one).
        uint256[3] memory live;
        for (uint256 c = 1; c <= tm.claimCount(); ++c) {
            Claim memory claim = tm.getClaim(c);
            if (
                claim.status == ClaimStatus.Standing || claim.status == ClaimStatus.Challenging
                    || claim.status == ClaimStatus.Queued
            ) {
                for (uint256 i = 0; i < operators.length; ++i) {
                    if (operators[i] == claim.operator) live[i] += claim.bond;
                }
            }
        }
        for (uint256 i = 0; i < operators.length; ++i) {
            assertEq(staking.getAccount(operators[i]).locked, live[i]);
            // All of it is the task manager's: the only bonds it may release or slash (§2.3).
            assertEq(staking.lockedBy(address(tm), operators[i]), live[i]);
        }
    }
}
