// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IPreimageOracle } from "./interfaces/IPreimageOracle.sol";
import { PreimageKeyLib } from "./lib/PreimageKeyLib.sol";

/// @title PreimageOracle
/// @notice Stores the 32-byte parts of framed preimages (`uint64 BE length ‖ data`) that `MIPS.step`
///         reads (docs/protocol.md §4.5). Local data is stored under keys localized to the loading
///         contract; keccak data is checked by hashing the full preimage on load. Loading is
///         permissionless: nobody can store data under a key they could not have produced.
contract PreimageOracle is IPreimageOracle {
    /// @inheritdoc IPreimageOracle
    uint256 public constant MAX_PREIMAGE_BYTES = 32768;

    /// @notice Bytes in the frame header (the uint64 length).
    uint256 private constant FRAME_HEADER = 8;

    /// @notice Part bytes by key and offset.
    mapping(bytes32 key => mapping(uint256 offset => bytes32 part)) private _parts;
    /// @notice `partLen + 1` by key and offset; 0 means the part was never loaded.
    mapping(bytes32 key => mapping(uint256 offset => uint256 lenPlusOne)) private _partLenPlusOne;

    /// @inheritdoc IPreimageOracle
    function readPreimage(bytes32 key, uint256 offset) external view returns (bytes32 part, uint256 partLen) {
        uint256 lenPlusOne = _partLenPlusOne[key][offset];
        if (lenPlusOne == 0) revert PreimageNotLoaded(key, offset);
        // unchecked: lenPlusOne >= 1 here.
        unchecked {
            partLen = lenPlusOne - 1;
        }
        part = _parts[key][offset];
    }

    /// @inheritdoc IPreimageOracle
    function loadLocalData(
        uint256 ident,
        bytes32 localContext,
        bytes32 word,
        uint256 size,
        uint256 partOffset
    )
        external
        returns (bytes32 key)
    {
        if (ident >> 248 != 0) revert InvalidLocalIdent(ident);
        if (size > 32) revert LocalDataTooLarge(size);
        uint256 framedLength = size + FRAME_HEADER;
        if (partOffset > framedLength) revert PartOffsetOOB(partOffset, framedLength);

        key = PreimageKeyLib.localize(PreimageKeyLib.localKey(ident), msg.sender, localContext);
        // Keep only word[0..size): the bytes past the datum read as zero padding.
        bytes32 data = size == 0 ? bytes32(0) : word & ~bytes32(type(uint256).max >> (8 * size));
        bytes32 part;
        // Assembly: builds the 40-byte frame (8-byte length, datum) plus 32 zero bytes of padding in
        // scratch memory past the free memory pointer and reads 32 bytes at `partOffset` (<= 40, so the
        // read stays inside the 72 bytes written). Not kept: the free memory pointer is not advanced.
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(buf, shl(192, size))
            mstore(add(buf, 8), data)
            mstore(add(buf, 40), 0)
            part := mload(add(buf, partOffset))
        }
        _storePart(key, partOffset, part, framedLength);
    }

    /// @inheritdoc IPreimageOracle
    function loadKeccak256PreimagePart(uint256 partOffset, bytes calldata preimage) external {
        uint256 length = preimage.length;
        if (length > MAX_PREIMAGE_BYTES) revert PreimageTooLarge(length, MAX_PREIMAGE_BYTES);
        uint256 framedLength = length + FRAME_HEADER;
        if (partOffset > framedLength) revert PartOffsetOOB(partOffset, framedLength);

        bytes32 hash;
        bytes32 part;
        // Assembly: copies the frame (8-byte length, preimage) to scratch memory past the free memory
        // pointer, followed by 32 zero bytes, hashes the preimage and reads 32 bytes at `partOffset`
        // (<= framedLength, so the read stays inside the framedLength + 32 bytes written). The copy is
        // bounded by MAX_PREIMAGE_BYTES. Not kept: the free memory pointer is not advanced.
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(buf, shl(192, length))
            calldatacopy(add(buf, 8), preimage.offset, length)
            mstore(add(add(buf, 8), length), 0)
            hash := keccak256(add(buf, 8), length)
            part := mload(add(buf, partOffset))
        }
        _storePart(PreimageKeyLib.keccak256Key(hash), partOffset, part, framedLength);
    }

    /// @notice Stores a part and emits `PreimagePartLoaded`.
    function _storePart(bytes32 key, uint256 partOffset, bytes32 part, uint256 framedLength) private {
        uint256 partLen = framedLength - partOffset;
        if (partLen > 32) partLen = 32;
        _parts[key][partOffset] = part;
        _partLenPlusOne[key][partOffset] = partLen + 1;
        emit PreimagePartLoaded(key, partOffset, partLen);
    }
}
