// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IStaking} from "../interfaces/IStaking.sol";
import {StakeAccount} from "../lib/Types.sol";
import {
    InsufficientFreeStake,
    InvalidSlashShares,
    LockUnderflow,
    NotSlasher,
    NothingToClaim,
    NothingUnbonding,
    OperatorJailed,
    SlashExceedsLock,
    StakeBelowMinimum,
    UnbondingNotEnded,
    ZeroAddress,
    ZeroAmount
} from "../lib/Errors.sol";

/// @title Staking
/// @notice Operator stake in one ERC20 token (fixed at deploy). Bonds of open claims are locked from the
/// operator's active stake, per slasher; a slash takes only a bond its caller locked (never free or unbonding
/// stake), pays the winner, the requester and the treasury and jails the operator. See docs/protocol.md §2.
/// @dev The token must be a plain ERC20 (no fee on transfer, no rebasing): balances here are nominal.
contract Staking is IStaking, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    uint16 private constant BPS = 10_000;

    IERC20 private immutable _stakeToken;
    uint256 private immutable _minStake;
    uint64 private immutable _unbondingPeriod;
    uint64 private immutable _jailPeriod;
    uint16 private immutable _winnerShareBps;
    uint16 private immutable _requesterShareBps;

    address private _treasury;
    mapping(address staker => StakeAccount) private _accounts;
    mapping(address account => bool) private _slashers;
    mapping(address account => uint256) private _claimable;
    /// @dev The part of each operator's `locked` that each slasher locked (the most it may release or slash), plus 1
    /// once the slasher has locked anything for the operator: 0 means never locked. The slot then never returns to
    /// zero, so an operator's next bond rewrites it (2,900 gas) instead of creating it (20,000): a keeper whose claims
    /// come one at a time would otherwise pay the fresh slot on every commit. Σ over slashers of `_held` = `locked`.
    mapping(address slasher => mapping(address operator => uint256)) private _lockedBy;

    modifier onlySlasher() {
        if (!_slashers[msg.sender]) revert NotSlasher(msg.sender);
        _;
    }

    /// @dev An authorised slasher, or a former one that still holds a lock on `operator`: revoking a slasher
    /// stops its new locks but lets it release or slash the bonds it took (its games finish, no bond is stranded).
    modifier onlyLockHolder(address operator) {
        if (!_slashers[msg.sender] && _held(msg.sender, operator) == 0) revert NotSlasher(msg.sender);
        _;
    }

    /// @param unbondingPeriod_ Seconds between {requestUnstake} and {withdraw}.
    /// @param jailPeriod_ Seconds a slashed operator may not lock new bonds.
    constructor(
        IERC20 stakeToken_,
        address owner_,
        address treasury_,
        uint256 minStake_,
        uint64 unbondingPeriod_,
        uint64 jailPeriod_,
        uint16 winnerShareBps_,
        uint16 requesterShareBps_
    ) Ownable(owner_) {
        if (address(stakeToken_) == address(0) || treasury_ == address(0)) revert ZeroAddress();
        if (uint256(winnerShareBps_) + requesterShareBps_ > BPS) {
            revert InvalidSlashShares(winnerShareBps_, requesterShareBps_);
        }
        _stakeToken = stakeToken_;
        _minStake = minStake_;
        _unbondingPeriod = unbondingPeriod_;
        _jailPeriod = jailPeriod_;
        _winnerShareBps = winnerShareBps_;
        _requesterShareBps = requesterShareBps_;
        _treasury = treasury_;
        emit TreasurySet(treasury_);
    }

    // ================================================================== stakers

    /// @inheritdoc IStaking
    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        StakeAccount storage account = _accounts[msg.sender];
        account.active = (uint256(account.active) + amount).toUint128();
        emit Staked(msg.sender, amount);
        _stakeToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IStaking
    function requestUnstake(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        StakeAccount storage account = _accounts[msg.sender];
        uint256 free = account.active - account.locked;
        if (amount > free) revert InsufficientFreeStake(msg.sender, free, amount);
        // amount <= free <= active, and unbonding + amount <= total stake, which fits in uint128.
        account.active -= uint128(amount);
        account.unbonding += uint128(amount);
        uint64 end = (block.timestamp + _unbondingPeriod).toUint64();
        account.unbondingEnd = end;
        emit UnstakeRequested(msg.sender, amount, end);
    }

    /// @inheritdoc IStaking
    function withdraw() external nonReentrant returns (uint256 amount) {
        StakeAccount storage account = _accounts[msg.sender];
        amount = account.unbonding;
        if (amount == 0) revert NothingUnbonding(msg.sender);
        if (block.timestamp < account.unbondingEnd) {
            revert UnbondingNotEnded(msg.sender, account.unbondingEnd, block.timestamp);
        }
        account.unbonding = 0;
        emit Withdrawn(msg.sender, amount);
        _stakeToken.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IStaking
    function claimRewards(address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        amount = _claimable[msg.sender];
        if (amount == 0) revert NothingToClaim(msg.sender);
        _claimable[msg.sender] = 0;
        emit RewardClaimed(msg.sender, to, amount);
        _stakeToken.safeTransfer(to, amount);
    }

    // ================================================================== dispute side

    /// @inheritdoc IStaking
    function lock(address operator, uint256 amount) external onlySlasher {
        StakeAccount storage account = _accounts[operator];
        if (block.timestamp < account.jailedUntil) revert OperatorJailed(operator, account.jailedUntil);
        if (account.active < _minStake) revert StakeBelowMinimum(operator, account.active, _minStake);
        uint256 free = account.active - account.locked;
        if (amount > free) revert InsufficientFreeStake(operator, free, amount);
        // locked + amount <= active, a uint128; the slasher's part is at most locked.
        account.locked += uint128(amount);
        uint256 stored = _lockedBy[msg.sender][operator];
        _lockedBy[msg.sender][operator] = (stored == 0 ? 1 : stored) + amount;
        emit StakeLocked(operator, amount);
    }

    /// @inheritdoc IStaking
    function unlock(address operator, uint256 amount) external onlyLockHolder(operator) {
        uint256 held = _held(msg.sender, operator);
        if (amount > held) revert LockUnderflow(operator, held, amount);
        // amount <= held <= locked; the stored value keeps its +1 (when held is 0 and amount 0, nothing changes).
        if (amount != 0) _lockedBy[msg.sender][operator] -= amount;
        _accounts[operator].locked -= uint128(amount);
        emit StakeUnlocked(operator, amount);
    }

    /// @inheritdoc IStaking
    function slash(address operator, uint256 amount, address winner, address requester)
        external
        onlyLockHolder(operator)
        nonReentrant
        returns (uint256 slashed)
    {
        StakeAccount storage account = _accounts[operator];
        slashed = _takeBond(account, operator, amount);
        uint64 jailedUntil = (block.timestamp + _jailPeriod).toUint64();
        if (jailedUntil > account.jailedUntil) account.jailedUntil = jailedUntil;

        uint256 toWinner = winner == address(0) ? 0 : slashed * _winnerShareBps / BPS;
        uint256 toRequester = requester == address(0) ? 0 : slashed * _requesterShareBps / BPS;
        // The shares sum to at most BPS, so toWinner + toRequester <= slashed.
        uint256 toTreasury = slashed - toWinner - toRequester;
        emit Slashed(operator, slashed, winner, toWinner, requester, toRequester, toTreasury, account.jailedUntil);
        _pay(winner, toWinner);
        _pay(requester, toRequester);
        _pay(_treasury, toTreasury);
    }

    // ================================================================== governance

    /// @inheritdoc IStaking
    function setSlasher(address account, bool authorised) external onlyOwner {
        if (account == address(0)) revert ZeroAddress();
        _slashers[account] = authorised;
        emit SlasherSet(account, authorised);
    }

    /// @inheritdoc IStaking
    function setTreasury(address treasury_) external onlyOwner {
        if (treasury_ == address(0)) revert ZeroAddress();
        _treasury = treasury_;
        emit TreasurySet(treasury_);
    }

    // ================================================================== views

    function stakeToken() external view returns (IERC20) {
        return _stakeToken;
    }

    function minStake() external view returns (uint256) {
        return _minStake;
    }

    function unbondingPeriod() external view returns (uint64) {
        return _unbondingPeriod;
    }

    function jailPeriod() external view returns (uint64) {
        return _jailPeriod;
    }

    function winnerShareBps() external view returns (uint16) {
        return _winnerShareBps;
    }

    function requesterShareBps() external view returns (uint16) {
        return _requesterShareBps;
    }

    function treasury() external view returns (address) {
        return _treasury;
    }

    function getAccount(address staker) external view returns (StakeAccount memory) {
        return _accounts[staker];
    }

    /// @inheritdoc IStaking
    function freeStake(address staker) external view returns (uint256) {
        StakeAccount storage account = _accounts[staker];
        return account.active - account.locked;
    }

    /// @inheritdoc IStaking
    function isEligible(address operator) external view returns (bool) {
        StakeAccount storage account = _accounts[operator];
        return block.timestamp >= account.jailedUntil && account.active >= _minStake;
    }

    function isSlasher(address account) external view returns (bool) {
        return _slashers[account];
    }

    function claimable(address account) external view returns (uint256) {
        return _claimable[account];
    }

    /// @inheritdoc IStaking
    function lockedBy(address slasher, address operator) external view returns (uint256) {
        return _held(slasher, operator);
    }

    // ================================================================== internals

    /// @dev Removes `amount` of the bonds the caller locked on `operator` (the cap of docs/protocol.md §2.3: a
    /// slasher takes only what it locked, never free active or unbonding stake). Returns what was removed.
    function _takeBond(StakeAccount storage account, address operator, uint256 amount) private returns (uint256) {
        uint256 held = _held(msg.sender, operator);
        if (amount > held) revert SlashExceedsLock(msg.sender, operator, held, amount);
        // amount <= held <= locked <= active: no underflow, and amount fits in uint128.
        if (amount != 0) _lockedBy[msg.sender][operator] -= amount;
        account.locked -= uint128(amount);
        account.active -= uint128(amount);
        return amount;
    }

    /// @dev What `slasher` holds locked of `operator`'s stake (`_lockedBy` less its never-zero marker).
    function _held(address slasher, address operator) private view returns (uint256) {
        uint256 stored = _lockedBy[slasher][operator];
        return stored == 0 ? 0 : stored - 1;
    }

    /// @dev Transfer a slash share; if the transfer fails (e.g. a blocklisted recipient) credit it instead, so
    /// a recipient can never block a game's resolution.
    function _pay(address to, uint256 amount) private {
        if (amount == 0) return;
        if (!_stakeToken.trySafeTransfer(to, amount)) {
            _claimable[to] += amount;
            emit RewardCredited(to, amount);
        }
    }
}
