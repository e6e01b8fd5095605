// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title PreimageKeyLib
/// @notice Preimage keys (docs/protocol.md §4.5): the first byte is the key type.
library PreimageKeyLib {
    /// @notice Type byte of local keys (per-game data).
    uint8 internal constant LOCAL_KEY_TYPE = 1;
    /// @notice Type byte of keccak keys.
    uint8 internal constant KECCAK256_KEY_TYPE = 2;

    /// @notice `hash` with its first byte replaced by `keyType`.
    function withType(bytes32 hash, uint8 keyType) internal pure returns (bytes32) {
        return (hash & ~bytes32(uint256(0xff) << 248)) | bytes32(uint256(keyType) << 248);
    }

    /// @notice The localized form of a local key: `keccak256(abi.encode(key, caller, localContext))`
    ///         (96 bytes, the address left-padded to 32), with the first byte set to 1. Only `caller` can
    ///         load data under it, so a game reads only its own local data.
    function localize(bytes32 key, address caller, bytes32 localContext) internal pure returns (bytes32) {
        return withType(keccak256(abi.encode(key, caller, localContext)), LOCAL_KEY_TYPE);
    }

    /// @notice The (unlocalized) local key of identifier `ident` (< 2^248, checked by the caller).
    function localKey(uint256 ident) internal pure returns (bytes32) {
        return bytes32((uint256(LOCAL_KEY_TYPE) << 248) | ident);
    }

    /// @notice The keccak key of `preimage`.
    function keccak256Key(bytes32 preimageHash) internal pure returns (bytes32) {
        return withType(preimageHash, KECCAK256_KEY_TYPE);
    }
}
