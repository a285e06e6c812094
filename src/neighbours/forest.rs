//! Random-projection trees (the initial candidates of the approximate search).
//!
//! Each tree splits a node's points by the hyperplane halfway between two of them, drawn from
//! the tree's own seeded generator, until a node holds at most `leaf_size` points. Trees are
//! built independently (in parallel) and each one sequentially, so a forest depends only on
//! the data, the parameters and the seed, never on the thread count.
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::rows::{dot, Rows};

/// One random-projection tree over the rows of a matrix.
pub(crate) struct Tree {
    /// Row indices, grouped by leaf.
    pub order: Vec<u32>,
    /// Leaf `l` holds `order[leaf_start[l]..leaf_start[l + 1]]`.
    pub leaf_start: Vec<u32>,
    /// Tree nodes; node 0 is the root.
    nodes: Vec<Node>,
    /// Hyperplane normals, `dim` floats per split node.
    normals: Vec<f32>,
}

#[derive(Clone, Copy)]
enum Node {
    /// Points with a negative margin go left, the others right.
    Split {
        plane: u32,
        offset: f32,
        left: u32,
        right: u32,
    },
    Leaf(u32),
}

/// Mixes a seed with a stream number (SplitMix64 finaliser).
pub(crate) fn mix(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Tree {
    /// Builds one tree over all rows of `x`.
    pub fn build(x: &Rows, leaf_size: usize, seed: u64) -> Tree {
        let n = x.n;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut nodes = vec![Node::Leaf(0)];
        let mut normals = Vec::new();
        let mut leaves: Vec<(usize, usize)> = Vec::new();
        // (node, start, end) still to split, processed depth first, left child first.
        let mut stack = vec![(0usize, 0usize, n)];
        let mut margin = Vec::new();
        let mut normal = vec![0f32; x.dim];
        while let Some((node, s, e)) = stack.pop() {
            if e - s <= leaf_size {
                nodes[node] = Node::Leaf(leaves.len() as u32);
                leaves.push((s, e));
                continue;
            }
            let pts = &mut order[s..e];
            let a = rng.gen_range(0..pts.len());
            let mut b = rng.gen_range(0..pts.len() - 1);
            if b >= a {
                b += 1;
            }
            let (ra, rb) = (x.row(pts[a] as usize), x.row(pts[b] as usize));
            for ((o, &u), &v) in normal.iter_mut().zip(ra).zip(rb) {
                *o = u - v;
            }
            let mid: Vec<f32> = ra.iter().zip(rb).map(|(&u, &v)| 0.5 * (u + v)).collect();
            let offset = dot(&normal, &mid);
            margin.clear();
            margin.extend(
                pts.iter()
                    .map(|&p| dot(&normal, x.row(p as usize)) - offset),
            );
            // Stable partition: negative margins first; a zero margin goes to a random side.
            let mut left = Vec::with_capacity(pts.len());
            let mut right = Vec::with_capacity(pts.len());
            for (&p, &m) in pts.iter().zip(&margin) {
                let go_left = if m == 0.0 { rng.gen::<bool>() } else { m < 0.0 };
                if go_left {
                    left.push(p)
                } else {
                    right.push(p)
                }
            }
            if left.is_empty() || right.is_empty() {
                // Coincident points: halve the node as it is ordered.
                left.clear();
                right.clear();
                let h = pts.len() / 2;
                left.extend_from_slice(&pts[..h]);
                right.extend_from_slice(&pts[h..]);
            }
            let nl = left.len();
            pts[..nl].copy_from_slice(&left);
            pts[nl..].copy_from_slice(&right);
            let plane = (normals.len() / x.dim) as u32;
            normals.extend_from_slice(&normal);
            let (l, r) = (nodes.len() as u32, nodes.len() as u32 + 1);
            nodes.push(Node::Leaf(0));
            nodes.push(Node::Leaf(0));
            nodes[node] = Node::Split {
                plane,
                offset,
                left: l,
                right: r,
            };
            stack.push((r as usize, s + nl, e));
            stack.push((l as usize, s, s + nl));
        }
        let mut leaf_start = Vec::with_capacity(leaves.len() + 1);
        leaf_start.push(0u32);
        for &(s, e) in &leaves {
            debug_assert_eq!(s as u32, *leaf_start.last().expect("not empty"));
            leaf_start.push(e as u32);
        }
        Tree {
            order,
            leaf_start,
            nodes,
            normals,
        }
    }

    /// Rows of leaf `l`.
    pub fn leaf(&self, l: u32) -> &[u32] {
        let l = l as usize;
        &self.order[self.leaf_start[l] as usize..self.leaf_start[l + 1] as usize]
    }

    /// The leaf a new point falls into.
    pub fn route(&self, q: &[f32]) -> u32 {
        let dim = q.len();
        let mut node = 0usize;
        loop {
            match self.nodes[node] {
                Node::Leaf(l) => return l,
                Node::Split {
                    plane,
                    offset,
                    left,
                    right,
                } => {
                    let p = plane as usize * dim;
                    let m = dot(&self.normals[p..p + dim], q) - offset;
                    node = if m < 0.0 { left } else { right } as usize;
                }
            }
        }
    }
}

/// Builds `n_trees` trees, tree `t` seeded from `(seed, t)`.
pub(crate) fn forest(x: &Rows, n_trees: usize, leaf_size: usize, seed: u64) -> Vec<Tree> {
    (0..n_trees)
        .into_par_iter()
        .map(|t| Tree::build(x, leaf_size, mix(seed, t as u64 + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_partition_rows_and_route_members_home() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let data: Vec<f32> = (0..500 * 4).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let x = Rows {
            data: &data,
            n: 500,
            dim: 4,
        };
        let t = Tree::build(&x, 20, 9);
        let mut seen = t.order.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..500).collect::<Vec<u32>>());
        for l in 0..t.leaf_start.len() - 1 {
            let leaf = t.leaf(l as u32);
            assert!(!leaf.is_empty() && leaf.len() <= 20);
            for &p in leaf {
                // Points on a hyperplane may be routed either way; these data have none.
                assert_eq!(t.route(x.row(p as usize)), l as u32);
            }
        }
    }
}
