// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {ModelRegistry} from "../../contracts/ModelRegistry.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";

/// @notice ModelRegistry unit tests: every function's success path and every custom error.
contract ModelRegistryTest is Test {
    ModelRegistry internal models;
    IModelRegistry.Model internal model;

    function setUp() public {
        models = new ModelRegistry();
        model = IModelRegistry.Model(keccak256("manifest"), IModelRegistry.VerificationMode.Embedding, 250, 0.5 ether);
    }

    function test_registerModel_storesTermsAndEmits() public {
        bytes32 expected = keccak256(abi.encode(model));
        vm.expectEmit(address(models));
        emit IModelRegistry.ModelRegistered(
            expected, address(this), model.manifestHash, model.mode, 250, 0.5 ether, "ipfs://manifest"
        );
        bytes32 id = models.registerModel(model, "ipfs://manifest");
        assertEq(id, expected);
        assertEq(models.idOf(model), expected);
        assertTrue(models.isRegistered(id));
        IModelRegistry.Model memory stored = models.modelOf(id);
        assertEq(stored.manifestHash, model.manifestHash);
        assertEq(uint8(stored.mode), uint8(model.mode));
        assertEq(stored.auditBps, 250);
        assertEq(stored.minCollateral, 0.5 ether);
        (IModelRegistry.VerificationMode mode, uint16 auditBps, uint128 minCollateral) = models.termsOf(id);
        assertEq(uint8(mode), uint8(model.mode));
        assertEq(auditBps, 250);
        assertEq(minCollateral, 0.5 ether);
    }

    function test_registerModel_keepsAModelWithAllZeroTerms() public {
        // the registered flag, not the terms, marks a model as known
        IModelRegistry.Model memory plain =
            IModelRegistry.Model(keccak256("plain"), IModelRegistry.VerificationMode.Exact, 0, 0);
        bytes32 id = models.registerModel(plain, "ipfs://plain");
        assertTrue(models.isRegistered(id));
        (IModelRegistry.VerificationMode mode, uint16 auditBps, uint128 minCollateral) = models.termsOf(id);
        assertEq(uint8(mode), 0);
        assertEq(auditBps, 0);
        assertEq(minCollateral, 0);
    }

    function test_registerModel_revertsWithoutManifest() public {
        IModelRegistry.Model memory noHash = model;
        noHash.manifestHash = bytes32(0);
        vm.expectRevert(IModelRegistry.ModelMissingManifest.selector);
        models.registerModel(noHash, "ipfs://manifest");
        vm.expectRevert(IModelRegistry.ModelMissingManifest.selector);
        models.registerModel(model, "");
    }

    function test_registerModel_revertsOnAuditRateAboveOne() public {
        model.auditBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelBadAuditRate.selector, 10_001));
        models.registerModel(model, "ipfs://manifest");
    }

    function test_registerModel_revertsWhenRegistered() public {
        bytes32 id = models.registerModel(model, "ipfs://manifest");
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelAlreadyRegistered.selector, id));
        models.registerModel(model, "ipfs://elsewhere");
    }

    function test_modelOf_revertsForUnknownModel() public {
        bytes32 id = keccak256("unknown");
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelUnknown.selector, id));
        models.modelOf(id);
    }

    function test_termsOf_revertsForUnknownModel() public {
        bytes32 id = keccak256("unknown");
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.ModelUnknown.selector, id));
        models.termsOf(id);
    }

    function test_isRegistered_falseForUnknownModel() public view {
        assertFalse(models.isRegistered(keccak256("unknown")));
    }
}
