// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Where a game is (docs/protocol.md §5).
/// @dev `Graph`: §5.2 rounds over graph states. `VmStart`: both sides post their VM state hash at `T` (§5.4).
/// `Vm`: §5.4 rounds over VM steps. `Step`: the range is one step; anyone may `step`. `Resolved`: decided.
enum GamePhase {
    Graph,
    VmStart,
    Vm,
    Step,
    Resolved
}

/// @notice The two parties of a game. Same order as {GameWinner}.
enum Side {
    Defender,
    Challenger
}

/// @notice A chess clock: the seconds a side has used, and since when it is running (0: stopped).
/// @dev Bit layout (a `uint128`):
/// ┌────────────┬────────────────────────────┐
/// │    Bits    │           Value            │
/// ├────────────┼────────────────────────────┤
/// │ [0, 64)    │ usedSeconds (stopped time) │
/// │ [64, 128)  │ runningSince (0: stopped)  │
/// └────────────┴────────────────────────────┘
type Clock is uint128;

using ClockLib for Clock global;

/// @title ClockLib
/// @notice Starting, stopping and reading a {Clock}. Timestamps are `uint64` seconds.
library ClockLib {
    function wrap(uint64 usedSeconds_, uint64 runningSince_) internal pure returns (Clock) {
        return Clock.wrap(uint128(usedSeconds_) | (uint128(runningSince_) << 64));
    }

    function usedSeconds(Clock self) internal pure returns (uint64) {
        return uint64(Clock.unwrap(self));
    }

    function runningSince(Clock self) internal pure returns (uint64) {
        return uint64(Clock.unwrap(self) >> 64);
    }

    /// @notice Time used by `now`: the stopped time plus the running stretch, if any.
    function usedAt(Clock self, uint64 now_) internal pure returns (uint64) {
        uint64 since = runningSince(self);
        // `since <= now_` always (it was a block timestamp), and a game cannot run for 2^64 - 1 seconds.
        return since == 0 ? usedSeconds(self) : usedSeconds(self) + (now_ - since);
    }

    /// @notice The clock running from `now_` (a running clock keeps its start).
    function start(Clock self, uint64 now_) internal pure returns (Clock) {
        if (runningSince(self) != 0) return self;
        return wrap(usedSeconds(self), now_);
    }

    /// @notice The clock stopped at `now_`, its running stretch added to the used time.
    function stop(Clock self, uint64 now_) internal pure returns (Clock) {
        return wrap(usedAt(self, now_), 0);
    }
}
