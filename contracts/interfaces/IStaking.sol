// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {StakeAccount} from "../lib/Types.sol";

/// @title IStaking
/// @notice Operator stake in one ERC20: stake, unbond, withdraw; bonds locked per open claim and per slasher;
/// slashing (at most the bonds the slasher locked) and jailing by the dispute side only. See docs/protocol.md §2.
interface IStaking {
    event Staked(address indexed staker, uint256 amount);
    event UnstakeRequested(address indexed staker, uint256 amount, uint64 unbondingEnd);
    event Withdrawn(address indexed staker, uint256 amount);
    event StakeLocked(address indexed operator, uint256 amount);
    event StakeUnlocked(address indexed operator, uint256 amount);
    /// @notice `amount` was taken from the bonds the slasher locked on `operator` and split.
    event Slashed(
        address indexed operator,
        uint256 amount,
        address indexed winner,
        uint256 toWinner,
        address indexed requester,
        uint256 toRequester,
        uint256 toTreasury,
        uint64 jailedUntil
    );
    /// @notice A slash share could not be transferred and was credited; claim it with {claimRewards}.
    event RewardCredited(address indexed account, uint256 amount);
    event RewardClaimed(address indexed account, address indexed to, uint256 amount);
    event SlasherSet(address indexed account, bool authorised);
    event TreasurySet(address indexed treasury);

    /// @notice Bond `amount` of the stake token (pulled with transferFrom).
    function stake(uint256 amount) external;

    /// @notice Move `amount` of free stake into unbonding; it is withdrawable after the unbonding period
    /// (restarted by each request). Unbonding stake cannot be locked, and so cannot be slashed.
    function requestUnstake(uint256 amount) external;

    /// @notice Withdraw all unbonded stake after the unbonding period.
    function withdraw() external returns (uint256 amount);

    /// @notice Lock `amount` of `operator`'s free stake as a bond held by the caller. The operator must not be
    /// jailed and must have at least the minimum stake. Only an authorised slasher (the task manager).
    function lock(address operator, uint256 amount) external;

    /// @notice Release `amount` of the bonds the caller locked on `operator` (LockUnderflow beyond them). An
    /// authorised slasher, or a revoked one that still holds a lock on `operator` (NotSlasher for others).
    function unlock(address operator, uint256 amount) external;

    /// @notice Take `amount` from the bonds the caller locked on `operator` (SlashExceedsLock beyond them: never
    /// free or unbonding stake), pay `winnerShareBps` to `winner`, `requesterShareBps` to `requester`, the rest
    /// to the treasury, and jail the operator. Callers as for {unlock}.
    /// @return slashed What was taken: `amount`.
    function slash(address operator, uint256 amount, address winner, address requester)
        external
        returns (uint256 slashed);

    /// @notice Transfer the caller's credited slash shares to `to`.
    function claimRewards(address to) external returns (uint256 amount);

    function setSlasher(address account, bool authorised) external;
    function setTreasury(address treasury) external;

    function stakeToken() external view returns (IERC20);
    function minStake() external view returns (uint256);
    function unbondingPeriod() external view returns (uint64);
    function jailPeriod() external view returns (uint64);
    function winnerShareBps() external view returns (uint16);
    function requesterShareBps() external view returns (uint16);
    function treasury() external view returns (address);
    function getAccount(address staker) external view returns (StakeAccount memory);
    /// @notice Stake that can be locked or unstaked: active minus locked.
    function freeStake(address staker) external view returns (uint256);
    /// @notice Whether `operator` may lock a new bond now: not jailed and active stake >= minimum.
    function isEligible(address operator) external view returns (bool);
    function isSlasher(address account) external view returns (bool);
    function claimable(address account) external view returns (uint256);
    /// @notice The part of `operator`'s locked stake that `slasher` locked: the most it may release or slash.
    function lockedBy(address slasher, address operator) external view returns (uint256);
}
