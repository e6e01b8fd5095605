// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockStakeToken
/// @notice Test-only ERC20 with open minting. Never deploy to a real network.
contract MockStakeToken is ERC20 {
    constructor() ERC20("Mock Stake", "MSTK") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
