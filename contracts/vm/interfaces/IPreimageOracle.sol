// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IPreimageOracle
/// @notice Serves the data a guest program reads through the VM's preimage syscalls (docs/protocol.md §4.5).
///         A preimage is served *framed* (`uint64 BE length ‖ data`) in parts of at most 32 bytes, each
///         part addressed by `(key, offset)`. A part must be loaded before `MIPS.step` can read it.
///
///         Key types (first byte of the key):
///         - 1 local: per-game data, stored under a key localized to the loading contract and a context,
///           so a game only ever sees its own local data.
///         - 2 keccak: `keccak256(data)` with the first byte set to 2; anyone may load a part, the oracle
///           hashes the full data to check the key.
interface IPreimageOracle {
    /// @notice A part of a preimage was stored.
    /// @param key The (localized, for local data) key the part is stored under.
    /// @param partOffset The offset of the part in the framed preimage.
    /// @param partLen The number of meaningful bytes in the part (0..32).
    event PreimagePartLoaded(bytes32 indexed key, uint256 partOffset, uint256 partLen);

    /// @notice The part at `offset` of the preimage under `key` was never loaded.
    error PreimageNotLoaded(bytes32 key, uint256 offset);
    /// @notice `partOffset` lies beyond the end of the framed preimage (`framedLength = 8 + data length`).
    error PartOffsetOOB(uint256 partOffset, uint256 framedLength);
    /// @notice Local data is at most 32 bytes.
    error LocalDataTooLarge(uint256 size);
    /// @notice A keccak preimage is at most `max` bytes.
    error PreimageTooLarge(uint256 length, uint256 max);
    /// @notice A local identifier must fit in the 31 low bytes of a key.
    error InvalidLocalIdent(uint256 ident);

    /// @notice The largest keccak preimage that can be loaded, in bytes (unframed).
    function MAX_PREIMAGE_BYTES() external view returns (uint256);

    /// @notice Reads 32 bytes of the framed preimage under `key`, starting at `offset`.
    /// @param key The key; local keys must already be localized (see `PreimageKeyLib.localize`).
    /// @param offset The byte offset into the framed preimage.
    /// @return part The 32 bytes at `offset`, zero-padded past the end.
    /// @return partLen `min(32, framedLength - offset)`: how many bytes of `part` are data.
    function readPreimage(bytes32 key, uint256 offset) external view returns (bytes32 part, uint256 partLen);

    /// @notice Loads a part of a local datum for the caller (the game) under a context of its choice.
    /// @param ident The local identifier (the low 31 bytes of the guest's key; must be < 2^248).
    /// @param localContext The context the caller will pass to `MIPS.step`.
    /// @param word The datum, left-aligned: the first `size` bytes are data, the rest is ignored.
    /// @param size The datum's length in bytes (<= 32).
    /// @param partOffset The offset of the part to store, in the framed datum (<= size + 8).
    /// @return key The localized key the part was stored under.
    function loadLocalData(
        uint256 ident,
        bytes32 localContext,
        bytes32 word,
        uint256 size,
        uint256 partOffset
    )
        external
        returns (bytes32 key);

    /// @notice Loads the part at `partOffset` of `preimage` under its keccak key. Callable by anyone.
    /// @param partOffset The offset of the part in the framed preimage (<= preimage.length + 8).
    /// @param preimage The full preimage (unframed), at most `MAX_PREIMAGE_BYTES` bytes.
    function loadKeccak256PreimagePart(uint256 partOffset, bytes calldata preimage) external;
}
