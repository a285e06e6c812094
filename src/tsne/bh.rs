//! Barnes–Hut approximation of the repulsive forces on a 2-D map.
use rayon::prelude::*;

const MAX_DEPTH: usize = 48;

struct Node {
    /// Lower corner and side length of the (square) cell.
    x0: f64,
    y0: f64,
    width: f64,
    /// Centre of mass and number of points.
    cx: f64,
    cy: f64,
    count: usize,
    /// First child (children are contiguous, 4 of them), or `usize::MAX` for a leaf.
    child: usize,
    /// Range of `order` holding the points of a leaf.
    start: usize,
    end: usize,
}

/// A quadtree over the points of a map.
pub struct QuadTree {
    nodes: Vec<Node>,
    order: Vec<usize>,
}

impl QuadTree {
    /// Builds the tree (deterministic; leaves hold one point unless points coincide).
    pub fn new(y: &[[f64; 2]]) -> Self {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in y {
            for d in 0..2 {
                lo[d] = lo[d].min(p[d]);
                hi[d] = hi[d].max(p[d]);
            }
        }
        let width = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1e-12) * (1.0 + 1e-9);
        let mut tree = QuadTree {
            nodes: Vec::with_capacity(2 * y.len() + 1),
            order: (0..y.len()).collect(),
        };
        tree.nodes.push(Node {
            x0: lo[0],
            y0: lo[1],
            width,
            cx: 0.0,
            cy: 0.0,
            count: 0,
            child: usize::MAX,
            start: 0,
            end: y.len(),
        });
        tree.build(0, y, 0);
        tree
    }

    fn build(&mut self, node: usize, y: &[[f64; 2]], depth: usize) {
        let (start, end) = (self.nodes[node].start, self.nodes[node].end);
        let (mut sx, mut sy) = (0.0, 0.0);
        for &i in &self.order[start..end] {
            sx += y[i][0];
            sy += y[i][1];
        }
        let count = end - start;
        {
            let nd = &mut self.nodes[node];
            nd.count = count;
            nd.cx = sx / count.max(1) as f64;
            nd.cy = sy / count.max(1) as f64;
        }
        if count <= 1 || depth >= MAX_DEPTH {
            return;
        }
        let (x0, y0, w) = (
            self.nodes[node].x0,
            self.nodes[node].y0,
            self.nodes[node].width,
        );
        let half = w / 2.0;
        let (mx, my) = (x0 + half, y0 + half);
        let quad = |p: &[f64; 2]| (p[0] >= mx) as usize + 2 * (p[1] >= my) as usize;
        // Stable partition of this range into the four quadrants.
        let slice = &self.order[start..end];
        let mut buckets: [Vec<usize>; 4] = Default::default();
        for &i in slice {
            buckets[quad(&y[i])].push(i);
        }
        let first = self.nodes.len();
        let mut pos = start;
        for (q, b) in buckets.iter().enumerate() {
            self.order[pos..pos + b.len()].copy_from_slice(b);
            self.nodes.push(Node {
                x0: if q & 1 == 1 { mx } else { x0 },
                y0: if q & 2 == 2 { my } else { y0 },
                width: half,
                cx: 0.0,
                cy: 0.0,
                count: 0,
                child: usize::MAX,
                start: pos,
                end: pos + b.len(),
            });
            pos += b.len();
        }
        self.nodes[node].child = first;
        for c in first..first + 4 {
            if self.nodes[c].end > self.nodes[c].start {
                self.build(c, y, depth + 1);
            }
        }
    }

    /// Sum over j ≠ i of w_ij = 1/(1+d²) and of w_ij² (y_i − y_j), for point `i`.
    fn point_forces(&self, i: usize, y: &[[f64; 2]], theta2: f64) -> (f64, [f64; 2]) {
        let (px, py) = (y[i][0], y[i][1]);
        let mut z = 0.0;
        let mut f = [0.0f64; 2];
        let mut stack = vec![0usize];
        while let Some(ni) = stack.pop() {
            let nd = &self.nodes[ni];
            if nd.count == 0 {
                continue;
            }
            if nd.child == usize::MAX {
                for &j in &self.order[nd.start..nd.end] {
                    if j == i {
                        continue;
                    }
                    let (dx, dy) = (px - y[j][0], py - y[j][1]);
                    let w = 1.0 / (1.0 + dx * dx + dy * dy);
                    z += w;
                    f[0] += w * w * dx;
                    f[1] += w * w * dy;
                }
                continue;
            }
            let (dx, dy) = (px - nd.cx, py - nd.cy);
            let d2 = dx * dx + dy * dy;
            let inside =
                px >= nd.x0 && px < nd.x0 + nd.width && py >= nd.y0 && py < nd.y0 + nd.width;
            if !inside && nd.width * nd.width < theta2 * d2 {
                let w = 1.0 / (1.0 + d2);
                let c = nd.count as f64;
                z += c * w;
                f[0] += c * w * w * dx;
                f[1] += c * w * w * dy;
            } else {
                for c in (nd.child..nd.child + 4).rev() {
                    stack.push(c);
                }
            }
        }
        (z, f)
    }
}

/// Unnormalised repulsive forces `Σ_j w_ij² (y_i − y_j)` into `out` and returns
/// `Z = Σ_{i≠j} w_ij`. Per-point work is independent; Z is summed in index order.
pub fn repulsive_bh(y: &[[f64; 2]], theta: f64, out: &mut [[f64; 2]]) -> f64 {
    let tree = QuadTree::new(y);
    let theta2 = theta * theta;
    let mut zs = vec![0f64; y.len()];
    out.par_iter_mut()
        .zip(zs.par_iter_mut())
        .enumerate()
        .for_each(|(i, (o, z))| {
            let (zi, f) = tree.point_forces(i, y, theta2);
            *o = f;
            *z = zi;
        });
    zs.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theta_zero_is_exact() {
        let y: Vec<[f64; 2]> = (0..50)
            .map(|i| {
                let t = i as f64 * 0.37;
                [t.sin() * (1.0 + t), t.cos() * 0.5 * t]
            })
            .collect();
        let mut f = vec![[0.0; 2]; 50];
        let z = repulsive_bh(&y, 0.0, &mut f);
        let mut ze = 0.0;
        for i in 0..50 {
            let mut fe = [0.0; 2];
            for j in 0..50 {
                if i != j {
                    let (dx, dy) = (y[i][0] - y[j][0], y[i][1] - y[j][1]);
                    let w = 1.0 / (1.0 + dx * dx + dy * dy);
                    ze += w;
                    fe[0] += w * w * dx;
                    fe[1] += w * w * dy;
                }
            }
            assert!((fe[0] - f[i][0]).abs() < 1e-12 && (fe[1] - f[i][1]).abs() < 1e-12);
        }
        assert!((z - ze).abs() < 1e-9);
        // Approximation at theta = 0.5 stays close.
        let z5 = repulsive_bh(&y, 0.5, &mut f);
        assert!((z5 - ze).abs() / ze < 0.02);
    }
}
