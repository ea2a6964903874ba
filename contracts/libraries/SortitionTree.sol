// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title SortitionTree
/// @notice A K-ary sum tree over weighted members: update a weight and draw a member with
/// probability proportional to its weight, each in O(log_K n) storage reads and writes.
/// Nodes live in BFS order (root at 0, children of i at K·i+1 … K·i+K); members sit at leaves,
/// every inner node holds the sum of its children. A removed member's leaf is recycled.
/// Storage is packed for the draw, which runs at every job post: the root's sum and the node
/// count share one slot, and sibling nodes share slots two by two (weights below 2^128), so a
/// draw reads one slot, then one or two per level, then the member.
library SortitionTree {
    uint256 internal constant K = 4;

    uint256 private constant HALF = 128;
    uint256 private constant MASK = type(uint128).max;

    /// @notice Raised when a weight or a sum of weights does not fit in 128 bits.
    error SortitionWeightOverflow(uint256 weight);

    struct Tree {
        // node count in the high 128 bits, the root's sum (the total weight) in the low 128
        uint256 head;
        // nodes 2p+1 (low half) and 2p+2 (high half)
        mapping(uint256 pair => uint256 sums) pairs;
        uint256[] vacant;
        mapping(address member => uint256 leaf) leafOf;
        mapping(uint256 leaf => address member) memberAt;
    }

    /// @notice Adds `member` with `weight`. The caller makes sure it is not in the tree yet.
    function insert(Tree storage tree, address member, uint256 weight) internal {
        uint256 size = tree.head >> HALF;
        if (size == 0) size = 1; // the root
        uint256 leaf;
        if (tree.vacant.length != 0) {
            leaf = tree.vacant[tree.vacant.length - 1];
            tree.vacant.pop();
        } else {
            leaf = size;
            // The first child of a node that is a leaf: push that leaf's member down into it,
            // so members only ever sit at leaves. The parent keeps its value (the same sum).
            if (leaf != 1 && (leaf - 1) % K == 0) {
                uint256 parent = (leaf - 1) / K;
                address moved = tree.memberAt[parent];
                _set(tree, leaf, _get(tree, parent));
                delete tree.memberAt[parent];
                tree.memberAt[leaf] = moved;
                tree.leafOf[moved] = leaf;
                ++leaf;
            }
            size = leaf + 1;
        }
        tree.head = size << HALF | (tree.head & MASK);
        tree.leafOf[member] = leaf;
        tree.memberAt[leaf] = member;
        _setLeaf(tree, leaf, weight);
    }

    /// @notice Removes `member`; the caller makes sure it is in the tree.
    function remove(Tree storage tree, address member) internal {
        uint256 leaf = tree.leafOf[member];
        _setLeaf(tree, leaf, 0);
        delete tree.leafOf[member];
        delete tree.memberAt[leaf];
        tree.vacant.push(leaf);
    }

    /// @notice Sets the weight of `member`, which is in the tree.
    function update(Tree storage tree, address member, uint256 weight) internal {
        _setLeaf(tree, tree.leafOf[member], weight);
    }

    /// @notice The sum of all weights.
    function total(Tree storage tree) internal view returns (uint256) {
        return tree.head & MASK;
    }

    /// @notice The weight of `member` (zero when absent).
    function weightOf(Tree storage tree, address member) internal view returns (uint256) {
        uint256 leaf = tree.leafOf[member];
        return leaf == 0 ? 0 : _get(tree, leaf);
    }

    /// @notice Draws a member: the one whose weight interval holds `seed % total`.
    /// @return member the member drawn, or address(0) when the total weight is zero
    function draw(Tree storage tree, uint256 seed) internal view returns (address member) {
        uint256 head = tree.head;
        uint256 sum = head & MASK;
        if (sum == 0) return address(0);
        uint256 value = seed % sum;
        uint256 size = head >> HALF;
        uint256 node;
        // descend while the node has children; every step keeps value < the node's sum
        while (K * node + 1 < size) {
            uint256 child = K * node + 1;
            uint256 last = child + K;
            if (last > size) last = size;
            uint256 sums;
            for (; child < last; ++child) {
                // children come in pairs: one read serves two of them
                if ((child - 1) & 1 == 0) sums = tree.pairs[(child - 1) >> 1];
                uint256 weight = (child - 1) & 1 == 0 ? sums & MASK : sums >> HALF;
                if (value < weight) break;
                value -= weight;
            }
            node = child;
        }
        return tree.memberAt[node];
    }

    function _get(Tree storage tree, uint256 node) private view returns (uint256) {
        if (node == 0) return tree.head & MASK;
        uint256 sums = tree.pairs[(node - 1) >> 1];
        return (node - 1) & 1 == 0 ? sums & MASK : sums >> HALF;
    }

    function _set(Tree storage tree, uint256 node, uint256 value) private {
        if (value > MASK) revert SortitionWeightOverflow(value);
        if (node == 0) {
            tree.head = (tree.head & ~MASK) | value;
            return;
        }
        uint256 pair = (node - 1) >> 1;
        uint256 sums = tree.pairs[pair];
        tree.pairs[pair] = (node - 1) & 1 == 0 ? (sums & ~MASK) | value : (sums & MASK) | value << HALF;
    }

    function _setLeaf(Tree storage tree, uint256 leaf, uint256 weight) private {
        uint256 old = _get(tree, leaf);
        if (old == weight) return;
        _set(tree, leaf, weight);
        // apply the same difference to every ancestor
        bool up = weight > old;
        uint256 delta = up ? weight - old : old - weight;
        uint256 node = leaf;
        while (node != 0) {
            node = (node - 1) / K;
            uint256 value = _get(tree, node);
            _set(tree, node, up ? value + delta : value - delta);
        }
    }
}
