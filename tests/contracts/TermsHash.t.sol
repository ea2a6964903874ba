// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {IAssayMarket} from "../../contracts/interfaces/IAssayMarket.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {JobSettlement} from "../../contracts/libraries/JobSettlement.sol";

contract TermsHashHarness {
    function termsHash(IAssayMarket.JobTerms calldata terms) external pure returns (bytes32) {
        return JobSettlement.termsHash(terms);
    }

    /// the terms as Solidity decoded them, encoded again the standard way
    function reencodedHash(IAssayMarket.JobTerms calldata terms) external pure returns (bytes32) {
        return keccak256(abi.encode(terms));
    }
}

/// `JobSettlement.termsHash` hashes the terms' calldata bytes instead of re-encoding them: it must
/// equal `keccak256(abi.encode(terms))` (what clients and the docs compute) for every standard
/// encoding, and differ for any other encoding of the same terms, so the digest check rejects it.
contract TermsHashTest is Test {
    TermsHashHarness internal harness = new TermsHashHarness();

    function _terms(uint256 seed, uint8 assignees, uint8 allowlist)
        internal
        pure
        returns (IAssayMarket.JobTerms memory t)
    {
        t.requester = address(uint160(uint256(keccak256(abi.encode(seed, "requester")))));
        t.token = address(uint160(seed));
        t.reward = uint128(seed >> 7);
        t.collateral = uint128(seed >> 13);
        t.modelId = keccak256(abi.encode(seed, "model"));
        t.inputHash = keccak256(abi.encode(seed, "input"));
        t.seed = bytes32(seed);
        t.consumer = address(uint160(seed >> 96));
        t.callbackGas = uint32(seed >> 3);
        t.redundancy = uint8(seed >> 5);
        t.mode = IModelRegistry.VerificationMode(seed % 2);
        t.auditBps = uint16(seed >> 11);
        t.feeBps = uint16(seed >> 17);
        t.arbiterShareBps = uint16(seed >> 19);
        t.postedAt = uint40(seed >> 23);
        t.claimDeadline = uint40(seed >> 29);
        t.resultDeadline = uint40(seed >> 31);
        t.acceptWindow = uint32(seed >> 37);
        t.revealWindow = uint32(seed >> 41);
        t.challengeWindow = uint32(seed >> 43);
        t.disputeWindow = uint32(seed >> 47);
        t.noShowPenalty = uint64(seed >> 53);
        t.assignees = new address[](assignees);
        for (uint256 i; i < assignees; ++i) {
            t.assignees[i] = address(uint160(uint256(keccak256(abi.encode(seed, "assignee", i)))));
        }
        t.allowlist = new address[](allowlist);
        for (uint256 i; i < allowlist; ++i) {
            t.allowlist[i] = address(uint160(uint256(keccak256(abi.encode(seed, "allowed", i)))));
        }
    }

    function testFuzz_termsHash_equalsStandardEncoding(uint256 seed, uint8 assignees, uint8 allowlist) public view {
        IAssayMarket.JobTerms memory t = _terms(seed, assignees % 9, allowlist % 17);
        assertEq(harness.termsHash(t), keccak256(abi.encode(t)));
    }

    /// the same terms with the allowlist's tail placed before the assignees' tail: Solidity
    /// decodes them to equal values, but the bytes (and so the hash) differ
    function test_termsHash_differsForNonStandardEncodingOfEqualTerms() public view {
        IAssayMarket.JobTerms memory t = _terms(42, 2, 3);
        bytes memory standard = abi.encodeCall(harness.termsHash, (t));
        // layout: selector, offset of the tuple (0x20), 22 static words, two array offsets,
        // then assignees (length + 2 words) and allowlist (length + 3 words)
        uint256 tuple = 4 + 32;
        uint256 assigneesAt = tuple + 24 * 32;
        uint256 assigneesSize = 3 * 32;
        uint256 allowlistSize = 4 * 32;
        bytes memory swapped = bytes.concat(
            _slice(standard, 0, tuple + 22 * 32),
            abi.encode(24 * 32 + allowlistSize, 24 * 32),
            _slice(standard, assigneesAt + assigneesSize, allowlistSize),
            _slice(standard, assigneesAt, assigneesSize)
        );
        assertEq(swapped.length, standard.length);

        bytes32 expected = keccak256(abi.encode(t));
        assertEq(
            _call(abi.encodePacked(harness.reencodedHash.selector, _slice(swapped, 4, swapped.length - 4))), expected
        );
        assertEq(_call(standard), expected);
        assertNotEq(_call(swapped), expected);
    }

    function _call(bytes memory data) internal view returns (bytes32) {
        (bool ok, bytes memory ret) = address(harness).staticcall(data);
        assertTrue(ok);
        return abi.decode(ret, (bytes32));
    }

    function _slice(bytes memory b, uint256 from, uint256 size) internal pure returns (bytes memory out) {
        out = new bytes(size);
        for (uint256 i; i < size; ++i) {
            out[i] = b[from + i];
        }
    }
}
