// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Staking} from "../../contracts/staking/Staking.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {MockStakeToken} from "../../contracts/mocks/MockStakeToken.sol";
import {StakeAccount} from "../../contracts/lib/Types.sol";
import "../../contracts/lib/Errors.sol";

/// @dev A token whose transfers to one blocklisted address revert (like USDC's blocklist).
contract BlocklistToken is ERC20 {
    address public immutable blocked;

    constructor(address blocked_) ERC20("Blocklist", "BLK") {
        blocked = blocked_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        require(to != blocked, "blocked");
        super._update(from, to, value);
    }
}

contract StakingTest is Test {
    uint256 internal constant MIN = 100 ether;
    uint64 internal constant UNBONDING = 7 days;
    uint64 internal constant JAIL = 3 days;

    MockStakeToken internal token;
    Staking internal staking;
    address internal owner = makeAddr("owner");
    address internal treasury = makeAddr("treasury");
    address internal slasher = makeAddr("slasher");
    address internal op = makeAddr("op");
    address internal winner = makeAddr("winner");
    address internal requester = makeAddr("requester");

    function setUp() public {
        vm.warp(1_700_000_000);
        token = new MockStakeToken();
        staking = new Staking(token, owner, treasury, MIN, UNBONDING, JAIL, 5_000, 2_000);
        vm.prank(owner);
        staking.setSlasher(slasher, true);
        _stake(op, 150 ether);
    }

    function _stake(address who, uint256 amount) internal {
        token.mint(who, amount);
        vm.startPrank(who);
        token.approve(address(staking), amount);
        staking.stake(amount);
        vm.stopPrank();
    }

    function _account(address who) internal view returns (StakeAccount memory) {
        return staking.getAccount(who);
    }

    function test_constructor_rejectsBadParams() public {
        vm.expectRevert(abi.encodeWithSelector(InvalidSlashShares.selector, uint16(6_000), uint16(5_000)));
        new Staking(token, owner, treasury, MIN, UNBONDING, JAIL, 6_000, 5_000);
        vm.expectRevert(abi.encodeWithSelector(ZeroAddress.selector));
        new Staking(IERC20(address(0)), owner, treasury, MIN, UNBONDING, JAIL, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(ZeroAddress.selector));
        new Staking(token, owner, address(0), MIN, UNBONDING, JAIL, 0, 0);
    }

    function test_stake_recordsAndPulls() public view {
        assertEq(_account(op).active, 150 ether);
        assertEq(token.balanceOf(address(staking)), 150 ether);
        assertEq(staking.freeStake(op), 150 ether);
        assertTrue(staking.isEligible(op));
        assertEq(address(staking.stakeToken()), address(token));
        assertEq(staking.minStake(), MIN);
        assertEq(staking.unbondingPeriod(), UNBONDING);
        assertEq(staking.jailPeriod(), JAIL);
    }

    function test_stake_zero() public {
        vm.expectRevert(abi.encodeWithSelector(ZeroAmount.selector));
        vm.prank(op);
        staking.stake(0);
    }

    function test_requestUnstake_andWithdrawAfterUnbonding() public {
        vm.expectEmit(address(staking));
        emit IStaking.UnstakeRequested(op, 60 ether, uint64(block.timestamp + UNBONDING));
        vm.prank(op);
        staking.requestUnstake(60 ether);
        assertEq(_account(op).active, 90 ether);
        assertEq(_account(op).unbonding, 60 ether);
        assertFalse(staking.isEligible(op)); // below the minimum now

        uint64 end = uint64(block.timestamp + UNBONDING);
        vm.warp(end - 1);
        vm.expectRevert(abi.encodeWithSelector(UnbondingNotEnded.selector, op, end, uint256(end - 1)));
        vm.prank(op);
        staking.withdraw();

        vm.warp(end);
        vm.prank(op);
        assertEq(staking.withdraw(), 60 ether);
        assertEq(token.balanceOf(op), 60 ether);
        assertEq(_account(op).unbonding, 0);

        vm.expectRevert(abi.encodeWithSelector(NothingUnbonding.selector, op));
        vm.prank(op);
        staking.withdraw();
    }

    function test_requestUnstake_cannotTouchLockedStake() public {
        vm.prank(slasher);
        staking.lock(op, 100 ether);
        vm.expectRevert(abi.encodeWithSelector(InsufficientFreeStake.selector, op, 50 ether, 51 ether));
        vm.prank(op);
        staking.requestUnstake(51 ether);
        vm.expectRevert(abi.encodeWithSelector(ZeroAmount.selector));
        vm.prank(op);
        staking.requestUnstake(0);
    }

    function test_lock_requiresEligibilityAndFreeStake() public {
        vm.startPrank(slasher);
        vm.expectRevert(abi.encodeWithSelector(InsufficientFreeStake.selector, op, 150 ether, 151 ether));
        staking.lock(op, 151 ether);
        staking.lock(op, 100 ether);
        assertEq(staking.freeStake(op), 50 ether);
        address poor = makeAddr("poor");
        vm.stopPrank();
        _stake(poor, MIN - 1);
        vm.expectRevert(abi.encodeWithSelector(StakeBelowMinimum.selector, poor, MIN - 1, MIN));
        vm.prank(slasher);
        staking.lock(poor, 1);
    }

    function test_unlock_underflow() public {
        vm.startPrank(slasher);
        staking.lock(op, 10 ether);
        assertEq(staking.lockedBy(slasher, op), 10 ether);
        vm.expectRevert(abi.encodeWithSelector(LockUnderflow.selector, op, 10 ether, 11 ether));
        staking.unlock(op, 11 ether);
        staking.unlock(op, 10 ether);
        vm.stopPrank();
        assertEq(_account(op).locked, 0);
        assertEq(staking.lockedBy(slasher, op), 0);
    }

    /// @dev A slasher's lock record never returns to zero once used: lockedBy still reads 0 after a full release, and
    /// the operator's next bond rewrites the slot instead of creating it (the keeper's one-claim-at-a-time case).
    function test_lock_reusesTheRecordAfterAFullRelease() public {
        vm.startPrank(slasher);
        uint256 g0 = gasleft();
        staking.lock(op, 10 ether);
        uint256 firstLock = g0 - gasleft();
        staking.unlock(op, 10 ether);
        assertEq(staking.lockedBy(slasher, op), 0);
        assertEq(_account(op).locked, 0);
        g0 = gasleft();
        staking.lock(op, 10 ether);
        uint256 secondLock = g0 - gasleft();
        assertEq(staking.lockedBy(slasher, op), 10 ether);
        assertEq(staking.slash(op, 10 ether, winner, requester), 10 ether);
        assertEq(staking.lockedBy(slasher, op), 0);
        vm.expectRevert(abi.encodeWithSelector(LockUnderflow.selector, op, 0, 1));
        staking.unlock(op, 1);
        vm.stopPrank();
        assertLt(secondLock + 15_000, firstLock, "the second lock rewrites the record");
    }

    /// @dev Two slashers lock on one operator: each releases only its own part.
    function test_unlock_onlyTheCallersOwnLocks() public {
        address other = makeAddr("otherSlasher");
        vm.prank(owner);
        staking.setSlasher(other, true);
        vm.prank(slasher);
        staking.lock(op, 30 ether);
        vm.prank(other);
        staking.lock(op, 20 ether);
        assertEq(_account(op).locked, 50 ether);
        vm.expectRevert(abi.encodeWithSelector(LockUnderflow.selector, op, 20 ether, 21 ether));
        vm.prank(other);
        staking.unlock(op, 21 ether);
        vm.prank(other);
        staking.unlock(op, 20 ether);
        assertEq(_account(op).locked, 30 ether);
        assertEq(staking.lockedBy(slasher, op), 30 ether);
        assertEq(staking.lockedBy(other, op), 0);
    }

    function test_slash_splitsAndJails() public {
        vm.startPrank(slasher);
        staking.lock(op, 10 ether);
        vm.expectEmit(address(staking));
        emit IStaking.Slashed(op, 10 ether, winner, 5 ether, requester, 2 ether, 3 ether, uint64(block.timestamp + JAIL));
        uint256 slashed = staking.slash(op, 10 ether, winner, requester);
        vm.stopPrank();
        assertEq(slashed, 10 ether);
        assertEq(token.balanceOf(winner), 5 ether);
        assertEq(token.balanceOf(requester), 2 ether);
        assertEq(token.balanceOf(treasury), 3 ether);
        assertEq(_account(op).active, 140 ether);
        assertEq(_account(op).locked, 0);
        assertFalse(staking.isEligible(op));
        vm.expectRevert(abi.encodeWithSelector(OperatorJailed.selector, op, uint64(block.timestamp + JAIL)));
        vm.prank(slasher);
        staking.lock(op, 1 ether);
        vm.warp(block.timestamp + JAIL);
        assertTrue(staking.isEligible(op));
        vm.prank(slasher);
        staking.lock(op, 1 ether);
    }

    /// @dev The cap (docs/protocol.md §2.3): a slash takes at most the bond the slasher locked; free active and
    /// unbonding stake are out of its reach.
    function test_slash_capsAtTheCallersLock() public {
        vm.prank(slasher);
        staking.lock(op, 10 ether);
        vm.prank(op);
        staking.requestUnstake(100 ether); // active 50 (10 locked), unbonding 100
        vm.expectRevert(abi.encodeWithSelector(SlashExceedsLock.selector, slasher, op, 10 ether, 10 ether + 1));
        vm.prank(slasher);
        staking.slash(op, 10 ether + 1, winner, requester);
        vm.prank(slasher);
        assertEq(staking.slash(op, 10 ether, winner, requester), 10 ether);
        assertEq(_account(op).active, 40 ether);
        assertEq(_account(op).locked, 0);
        assertEq(_account(op).unbonding, 100 ether);
        // Nothing locked any more: not one more wei.
        vm.expectRevert(abi.encodeWithSelector(SlashExceedsLock.selector, slasher, op, 0, 1));
        vm.prank(slasher);
        staking.slash(op, 1, winner, requester);
        assertEq(token.balanceOf(address(staking)), 140 ether);
    }

    /// @dev A slasher authorised later cannot touch bonds another slasher locked, only those it locks itself.
    function test_slash_newSlasherCannotTakeOthersBonds() public {
        vm.prank(slasher);
        staking.lock(op, 10 ether);
        address rogue = makeAddr("rogueSlasher");
        vm.prank(owner);
        staking.setSlasher(rogue, true);
        vm.startPrank(rogue);
        vm.expectRevert(abi.encodeWithSelector(SlashExceedsLock.selector, rogue, op, 0, 1));
        staking.slash(op, 1, rogue, rogue);
        vm.expectRevert(abi.encodeWithSelector(LockUnderflow.selector, op, 0, 1));
        staking.unlock(op, 1);
        staking.lock(op, 5 ether);
        vm.expectRevert(abi.encodeWithSelector(SlashExceedsLock.selector, rogue, op, 5 ether, 15 ether));
        staking.slash(op, 15 ether, rogue, rogue);
        assertEq(staking.slash(op, 5 ether, rogue, rogue), 5 ether);
        vm.stopPrank();
        assertEq(staking.lockedBy(slasher, op), 10 ether);
        assertEq(_account(op).locked, 10 ether);
        assertEq(_account(op).active, 145 ether);
    }

    /// @dev Revoking a slasher stops its new locks; the bonds it holds it can still release or slash, so its
    /// open games finish and no bond is stranded. Once it holds nothing it is a stranger.
    function test_setSlasher_revokedSlasherSettlesOnlyWhatItHolds() public {
        vm.prank(slasher);
        staking.lock(op, 30 ether);
        vm.prank(owner);
        staking.setSlasher(slasher, false);
        vm.startPrank(slasher);
        vm.expectRevert(abi.encodeWithSelector(NotSlasher.selector, slasher));
        staking.lock(op, 1);
        staking.unlock(op, 10 ether);
        assertEq(staking.slash(op, 10 ether, winner, requester), 10 ether);
        vm.expectRevert(abi.encodeWithSelector(SlashExceedsLock.selector, slasher, op, 10 ether, 11 ether));
        staking.slash(op, 11 ether, winner, requester);
        staking.unlock(op, 10 ether);
        vm.expectRevert(abi.encodeWithSelector(NotSlasher.selector, slasher));
        staking.unlock(op, 0);
        vm.expectRevert(abi.encodeWithSelector(NotSlasher.selector, slasher));
        staking.slash(op, 0, winner, requester);
        vm.stopPrank();
        assertEq(_account(op).locked, 0);
        assertEq(_account(op).active, 140 ether);
    }

    function test_slash_creditsWhenTransferFails() public {
        BlocklistToken blk = new BlocklistToken(winner);
        Staking s = new Staking(IERC20(address(blk)), owner, treasury, MIN, UNBONDING, JAIL, 5_000, 2_000);
        vm.prank(owner);
        s.setSlasher(slasher, true);
        blk.mint(op, MIN);
        vm.startPrank(op);
        blk.approve(address(s), MIN);
        s.stake(MIN);
        vm.stopPrank();
        vm.startPrank(slasher);
        s.lock(op, 10 ether);
        s.slash(op, 10 ether, winner, requester);
        vm.stopPrank();
        assertEq(blk.balanceOf(winner), 0);
        assertEq(s.claimable(winner), 5 ether);
        assertEq(blk.balanceOf(requester), 2 ether);
        address to = makeAddr("winnerColdWallet");
        vm.prank(winner);
        assertEq(s.claimRewards(to), 5 ether);
        assertEq(blk.balanceOf(to), 5 ether);
        vm.expectRevert(abi.encodeWithSelector(NothingToClaim.selector, winner));
        vm.prank(winner);
        s.claimRewards(to);
    }

    function test_slash_zeroRecipientsGoToTreasury() public {
        vm.startPrank(slasher);
        staking.lock(op, 10 ether);
        staking.slash(op, 10 ether, address(0), address(0));
        vm.stopPrank();
        assertEq(token.balanceOf(treasury), 10 ether);
    }

    function test_privileged_notCallableByOthers() public {
        address[3] memory callers = [op, owner, winner];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.startPrank(callers[i]);
            vm.expectRevert(abi.encodeWithSelector(NotSlasher.selector, callers[i]));
            staking.lock(op, 1);
            vm.expectRevert(abi.encodeWithSelector(NotSlasher.selector, callers[i]));
            staking.unlock(op, 0);
            vm.expectRevert(abi.encodeWithSelector(NotSlasher.selector, callers[i]));
            staking.slash(op, 1, callers[i], callers[i]);
            vm.stopPrank();
        }
        vm.startPrank(slasher);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, slasher));
        staking.setSlasher(slasher, true);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, slasher));
        staking.setTreasury(slasher);
        vm.stopPrank();
    }

    function test_setSlasher_revoke() public {
        vm.prank(owner);
        staking.setSlasher(slasher, false);
        assertFalse(staking.isSlasher(slasher));
        vm.expectRevert(abi.encodeWithSelector(NotSlasher.selector, slasher));
        vm.prank(slasher);
        staking.lock(op, 1);
    }

    /// @dev Token conservation: the contract holds exactly active + unbonding + claimable of everyone, and a
    /// slash moves exactly what it takes to the three recipients.
    function testFuzz_slash_conservesTokens(uint128 stakeAmt, uint128 lockAmt, uint128 unstakeAmt, uint128 slashAmt)
        public
    {
        address s = makeAddr("fuzzStaker");
        stakeAmt = uint128(bound(stakeAmt, MIN, 1e30));
        _stake(s, stakeAmt);
        lockAmt = uint128(bound(lockAmt, 0, stakeAmt));
        vm.prank(slasher);
        staking.lock(s, lockAmt);
        unstakeAmt = uint128(bound(unstakeAmt, 0, stakeAmt - lockAmt));
        if (unstakeAmt > 0) {
            vm.prank(s);
            staking.requestUnstake(unstakeAmt);
        }
        slashAmt = uint128(bound(slashAmt, 0, 2e30));
        uint256 beforeBal = token.balanceOf(address(staking));
        if (slashAmt > lockAmt) {
            vm.expectRevert(abi.encodeWithSelector(SlashExceedsLock.selector, slasher, s, lockAmt, slashAmt));
            vm.prank(slasher);
            staking.slash(s, slashAmt, winner, requester);
            slashAmt = lockAmt;
        }
        vm.prank(slasher);
        uint256 slashed = staking.slash(s, slashAmt, winner, requester);
        assertEq(slashed, slashAmt);
        // Only the bond: free active and unbonding stake are untouched.
        assertEq(_account(s).active, stakeAmt - unstakeAmt - slashed);
        assertEq(_account(s).unbonding, unstakeAmt);
        assertEq(_account(s).locked, lockAmt - slashed);
        assertEq(staking.lockedBy(slasher, s), lockAmt - slashed);
        assertEq(beforeBal - token.balanceOf(address(staking)), slashed);
        assertEq(token.balanceOf(winner) + token.balanceOf(requester) + token.balanceOf(treasury), slashed);
        StakeAccount memory a = _account(s);
        StakeAccount memory o = _account(op);
        assertEq(token.balanceOf(address(staking)), uint256(a.active) + a.unbonding + o.active + o.unbonding);
        assertLe(a.locked, a.active);
    }
}
