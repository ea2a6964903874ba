// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title SortitionTree
/// @notice A K-ary sum tree over weighted members: update a weight and draw a member with
/// probability proportional to its weight, each in O(K·log_K n) storage reads and writes.
/// Nodes live in BFS order (root at 0, children of i at K·i+1 … K·i+K); members sit at leaves,
/// every inner node holds the sum of its children. A removed member's leaf is recycled.
library SortitionTree {
    uint256 internal constant K = 4;

    struct Tree {
        uint256[] nodes;
        uint256[] vacant;
        mapping(address member => uint256 leaf) leafOf;
        mapping(uint256 leaf => address member) memberAt;
    }

    /// @notice Adds `member` with `weight`. The caller makes sure it is not in the tree yet.
    function insert(Tree storage tree, address member, uint256 weight) internal {
        if (tree.nodes.length == 0) tree.nodes.push(0); // the root
        uint256 leaf;
        if (tree.vacant.length != 0) {
            leaf = tree.vacant[tree.vacant.length - 1];
            tree.vacant.pop();
        } else {
            leaf = tree.nodes.length;
            // The first child of a node that is a leaf: push that leaf's member down into it,
            // so members only ever sit at leaves. The parent keeps its value (the same sum).
            if (leaf != 1 && (leaf - 1) % K == 0) {
                uint256 parent = (leaf - 1) / K;
                address moved = tree.memberAt[parent];
                tree.nodes.push(tree.nodes[parent]);
                delete tree.memberAt[parent];
                tree.memberAt[leaf] = moved;
                tree.leafOf[moved] = leaf;
                ++leaf;
            }
            tree.nodes.push(0);
        }
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
        return tree.nodes.length == 0 ? 0 : tree.nodes[0];
    }

    /// @notice The weight of `member` (zero when absent).
    function weightOf(Tree storage tree, address member) internal view returns (uint256) {
        uint256 leaf = tree.leafOf[member];
        return leaf == 0 ? 0 : tree.nodes[leaf];
    }

    /// @notice Draws a member: the one whose weight interval holds `seed % total`.
    /// @return member the member drawn, or address(0) when the total weight is zero
    function draw(Tree storage tree, uint256 seed) internal view returns (address member) {
        uint256 sum = total(tree);
        if (sum == 0) return address(0);
        uint256 value = seed % sum;
        uint256 length = tree.nodes.length;
        uint256 node;
        // descend while the node has children; every step keeps value < nodes[node]
        while (K * node + 1 < length) {
            uint256 child = K * node + 1;
            uint256 last = child + K;
            if (last > length) last = length;
            for (; child < last; ++child) {
                uint256 weight = tree.nodes[child];
                if (value < weight) break;
                value -= weight;
            }
            node = child;
        }
        return tree.memberAt[node];
    }

    function _setLeaf(Tree storage tree, uint256 leaf, uint256 weight) private {
        uint256 old = tree.nodes[leaf];
        if (old == weight) return;
        tree.nodes[leaf] = weight;
        // apply the same difference to every ancestor
        bool up = weight > old;
        uint256 delta = up ? weight - old : old - weight;
        uint256 node = leaf;
        while (node != 0) {
            node = (node - 1) / K;
            tree.nodes[node] = up ? tree.nodes[node] + delta : tree.nodes[node] - delta;
        }
    }
}
