//! Approximate k-nearest neighbours: random-projection-forest candidates refined by
//! NN-descent (the recipe of pynndescent, which openTSNE uses).
//!
//! Every step is written so that its result does not depend on the thread count: the
//! candidates of a round come from a snapshot of the lists as the round starts, and a list
//! always keeps the `k` smallest distinct `(distance, index)` pairs among all candidates it
//! has seen — a set that does not depend on the order they arrive in.
//! Distances are computed as `Σ (a − b)²` in f32, which is bitwise symmetric.
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::sync::Mutex;

use super::forest::{mix, Tree};
use super::rows::{dist2_f32, Rows};

/// Neighbour lists under construction: row `i` holds `keys[i*k..(i+1)*k]`, each
/// `(distance bits << 32) | index`, ascending; `u64::MAX` marks an empty slot.
pub(crate) struct Lists {
    pub k: usize,
    pub keys: Vec<u64>,
    /// Whether an entry arrived since it was last used to propose candidates.
    pub fresh: Vec<bool>,
    /// The order rows are processed in (a permutation that keeps nearby rows together; it
    /// changes the speed, never the result).
    pub order: Vec<u32>,
}

#[inline]
fn key(d: f32, j: u32) -> u64 {
    // Non-negative f32 values order like their bit patterns.
    ((d.to_bits() as u64) << 32) | j as u64
}

#[inline]
pub(crate) fn key_index(k: u64) -> u32 {
    k as u32
}

/// Per-thread scratch: a stamp per point, so each candidate is measured once per row.
struct Marks {
    stamp: Vec<u32>,
    gen: u32,
}

impl Marks {
    fn new(n: usize) -> Marks {
        Marks {
            stamp: vec![0; n],
            gen: 0,
        }
    }
    fn next(&mut self) {
        self.gen = self.gen.wrapping_add(1);
        if self.gen == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.gen = 1;
        }
    }
    /// Marks `j`; returns whether it was unmarked.
    #[inline]
    fn visit(&mut self, j: u32) -> bool {
        let s = &mut self.stamp[j as usize];
        if *s == self.gen {
            false
        } else {
            *s = self.gen;
            true
        }
    }
}

/// Inserts `key` into the ascending row if it is smaller than the last entry.
#[inline]
fn insert(keys: &mut [u64], fresh: &mut [bool], kk: u64) -> bool {
    let k = keys.len();
    if kk >= keys[k - 1] {
        return false;
    }
    let pos = keys.partition_point(|&x| x < kk);
    keys.copy_within(pos..k - 1, pos + 1);
    fresh.copy_within(pos..k - 1, pos + 1);
    keys[pos] = kk;
    fresh[pos] = true;
    true
}

/// Initial lists of the rows of `x` from the leaves of `trees`: every pair of rows sharing
/// a leaf is measured and offered to both, and a row keeps the `k` smallest distinct keys; slots
/// still empty (rows in small leaves) are then filled with seeded random rows. Trees are
/// processed one after another and the leaves of a tree in parallel: a leaf's rows are copied
/// together and its distances computed once, from cache, and no two leaves of a tree share a
/// row. The lists are the `k` nearest of each row's leaf mates whatever the order.
pub(crate) fn from_leaves(x: &Rows, trees: &[Tree], k: usize, seed: u64) -> Lists {
    let (n, dim) = (x.n, x.dim);
    let mut keys = vec![u64::MAX; n * k];
    let mut fresh = vec![true; n * k];
    let order = locality_order(trees, n);
    {
        let rows = locked_rows(&mut keys, &mut fresh, k);
        for t in trees {
            (0..t.leaf_start.len() - 1).into_par_iter().for_each_init(
                || (Vec::new(), Vec::new()),
                |(buf, dist): &mut (Vec<f32>, Vec<f32>), l| {
                    let ids = t.leaf(l as u32);
                    let m = ids.len();
                    buf.clear();
                    for &j in ids {
                        buf.extend_from_slice(x.row(j as usize));
                    }
                    dist.clear();
                    dist.resize(m * m, 0.0);
                    for a in 0..m {
                        let xa = &buf[a * dim..(a + 1) * dim];
                        for b in a + 1..m {
                            let d = dist2_f32(xa, &buf[b * dim..(b + 1) * dim]);
                            dist[a * m + b] = d;
                            dist[b * m + a] = d;
                        }
                    }
                    for (a, &i) in ids.iter().enumerate() {
                        let mut guard = rows[i as usize].lock().expect("no panics while locked");
                        let (row, fr) = &mut *guard;
                        for (b, &j) in ids.iter().enumerate() {
                            if b != a {
                                offer_into(row, fr, key(dist[a * m + b], j), true);
                            }
                        }
                    }
                },
            );
        }
    }
    // Rows with fewer than k distinct leaf mates: seeded random rows not listed yet.
    keys.par_chunks_mut(k)
        .zip(fresh.par_chunks_mut(k))
        .enumerate()
        .filter(|(_, (row, _))| row[k - 1] == u64::MAX)
        .for_each(|(i, (row, fr))| {
            let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, i as u64));
            let xi = x.row(i);
            while row[k - 1] == u64::MAX {
                let j = rng.gen_range(0..n as u32);
                let listed = row.iter().any(|&kk| kk != u64::MAX && key_index(kk) == j);
                if j as usize != i && !listed {
                    insert(row, fr, key(dist2_f32(xi, x.row(j as usize)), j));
                }
            }
        });
    Lists {
        k,
        keys,
        fresh,
        order,
    }
}

/// Rows in the leaf order of the first tree (identity without trees): nearby rows together.
fn locality_order(trees: &[Tree], n: usize) -> Vec<u32> {
    match trees.first() {
        Some(t) => t.order.clone(),
        None => (0..n as u32).collect(),
    }
}

/// A row's keys and per-entry flags behind its own lock.
type LockedRow<'a, T> = Mutex<(&'a mut [u64], &'a mut [T])>;

/// One lock per row over disjoint slices of `keys` and `flags` (`k` entries a row).
fn locked_rows<'a, T>(keys: &'a mut [u64], flags: &'a mut [T], k: usize) -> Vec<LockedRow<'a, T>> {
    keys.chunks_mut(k)
        .zip(flags.chunks_mut(k))
        .map(Mutex::new)
        .collect()
}

/// Candidate lists of one round: row `i` holds `ids[i*cap..i*cap+len[i]]`.
struct Sampled {
    cap: usize,
    ids: Vec<u32>,
    len: Vec<u32>,
}

impl Sampled {
    fn row(&self, i: usize) -> &[u32] {
        &self.ids[i * self.cap..i * self.cap + self.len[i] as usize]
    }
}

/// Forward samples (the `m` nearest fresh or the `m` nearest used entries of each row) plus
/// reverse entries, at most `m` of them per row, picked by a seeded hash.
fn sample(l: &Lists, want_fresh: bool, m: usize, seed: u64) -> Sampled {
    let (n, k) = (l.keys.len() / l.k, l.k);
    let cap = 2 * m;
    let fwd: Vec<Vec<u32>> = (0..n)
        .into_par_iter()
        .map(|i| {
            (0..k)
                .filter(|&t| l.fresh[i * k + t] == want_fresh && l.keys[i * k + t] != u64::MAX)
                .take(m)
                .map(|t| key_index(l.keys[i * k + t]))
                .collect()
        })
        .collect();
    // Reverse lists: counting sort in row order, then a seeded choice of at most m.
    let mut count = vec![0u32; n + 1];
    for f in &fwd {
        for &j in f {
            count[j as usize + 1] += 1;
        }
    }
    for i in 0..n {
        count[i + 1] += count[i];
    }
    let mut rev = vec![0u32; count[n] as usize];
    let mut fill = count.clone();
    for (i, f) in fwd.iter().enumerate() {
        for &j in f {
            rev[fill[j as usize] as usize] = i as u32;
            fill[j as usize] += 1;
        }
    }
    let mut ids = vec![0u32; n * cap];
    let mut len = vec![0u32; n];
    ids.par_chunks_mut(cap)
        .zip(len.par_iter_mut())
        .enumerate()
        .for_each(|(i, (out, ln))| {
            let f = &fwd[i];
            out[..f.len()].copy_from_slice(f);
            let mut r: Vec<u32> = rev[count[i] as usize..count[i + 1] as usize]
                .iter()
                .copied()
                .filter(|j| !f.contains(j))
                .collect();
            if r.len() > m {
                r.sort_by_key(|&j| mix(seed, ((i as u64) << 32) | j as u64));
                r.truncate(m);
            }
            out[f.len()..f.len() + r.len()].copy_from_slice(&r);
            *ln = (f.len() + r.len()) as u32;
        });
    Sampled { cap, ids, len }
}

/// Inserts `kk` into a row under construction unless it is not smaller than the last entry
/// or already present, flagging it `mark`; returns the new last entry.
#[inline]
fn offer_into<T: Copy>(keys: &mut [u64], flags: &mut [T], kk: u64, mark: T) -> u64 {
    let k = keys.len();
    if kk < keys[k - 1] {
        let pos = keys.partition_point(|&x| x < kk);
        if keys[pos] != kk {
            keys.copy_within(pos..k - 1, pos + 1);
            flags.copy_within(pos..k - 1, pos + 1);
            keys[pos] = kk;
            flags[pos] = mark;
        }
    }
    keys[k - 1]
}

/// Row-major `[N, k]` indices of the lists as a round starts, each row sorted: whether `v`
/// was listed by `u` then, found by binary search without taking `u`'s lock.
struct Listed {
    k: usize,
    ids: Vec<u32>,
}

impl Listed {
    fn new(l: &Lists) -> Listed {
        let k = l.k;
        let mut ids: Vec<u32> = l.keys.iter().map(|&kk| key_index(kk)).collect();
        ids.par_chunks_mut(k).for_each(|r| r.sort_unstable());
        Listed { k, ids }
    }
    #[inline]
    fn has(&self, u: u32, v: u32) -> bool {
        let u = u as usize;
        self.ids[u * self.k..(u + 1) * self.k]
            .binary_search(&v)
            .is_ok()
    }
}

/// NN-descent: at most `max_iter` rounds, stopping when a round changes fewer than
/// `delta · N · k` entries. `m` bounds the candidates sampled per row and round.
///
/// Each round is the local join of pynndescent: for every row `p`, every pair of its
/// sampled candidates (new × new and new × old) is measured once and offered to both ends.
/// Offers go through one lock per row, so they arrive in an order that depends on the
/// threads, but a row keeps the `k` smallest distinct keys among everything offered to it
/// in the round, which does not; the candidates of a round come from the lists as they were
/// when it started. The result is therefore the same at any thread count. An offer of a key
/// the row listed when the round started is skipped (it is in that set already), and a pair
/// listed at both ends is not measured at all. Rows `p` are visited in
/// [`Lists::order`], so the rows a stretch of them measures stay in cache.
pub(crate) fn refine(
    x: &Rows,
    l: Lists,
    m: usize,
    max_iter: usize,
    delta: f64,
    seed: u64,
) -> Lists {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    let (n, k) = (x.n, l.k);
    let mut l = l;
    let mut state = vec![0u8; n * k];
    for round in 0..max_iter {
        let _ph = crate::phase_log::Phase::start("knn: nn-descent round");
        let rs = mix(seed, 0xd1e5 + round as u64);
        let new = sample(&l, true, m, rs);
        let old = sample(&l, false, m, rs ^ 1);
        let listed = Listed::new(&l);
        // The fresh entries sampled now count as used after this round.
        state
            .par_chunks_mut(k)
            .zip(l.keys.par_chunks(k).zip(l.fresh.par_chunks(k)))
            .enumerate()
            .for_each(|(i, (st, (keys, fr)))| {
                let sampled = new.row(i);
                for ((s, kk), &f) in st.iter_mut().zip(keys).zip(fr) {
                    *s = u8::from(f && !sampled.contains(&key_index(*kk)));
                }
            });
        let worst: Vec<AtomicU64> = l.keys.chunks(k).map(|r| AtomicU64::new(r[k - 1])).collect();
        let rows = locked_rows(&mut l.keys, &mut state, k);
        let offer = |u: u32, kk: u64| {
            if kk < worst[u as usize].load(Relaxed) {
                let mut guard = rows[u as usize].lock().expect("no panics while locked");
                let (keys, st) = &mut *guard;
                // State 2: inserted in this round.
                worst[u as usize].store(offer_into(keys, st, kk, 2), Relaxed);
            }
        };
        l.order.par_iter().for_each(|&p| {
            let p = p as usize;
            let (nw, od) = (new.row(p), old.row(p));
            for (a, &u) in nw.iter().enumerate() {
                let xu = x.row(u as usize);
                for &v in nw[a + 1..].iter().chain(od) {
                    if u == v {
                        continue;
                    }
                    let (to_u, to_v) = (!listed.has(u, v), !listed.has(v, u));
                    if !(to_u || to_v) {
                        continue;
                    }
                    let d = dist2_f32(xu, x.row(v as usize));
                    if to_u {
                        offer(u, key(d, v));
                    }
                    if to_v {
                        offer(v, key(d, u));
                    }
                }
            }
        });
        drop(rows);
        drop(listed);
        let total = state.par_iter().filter(|&&st| st == 2).count();
        l.fresh
            .par_iter_mut()
            .zip(state.par_iter())
            .for_each(|(f, &st)| *f = st != 0);
        if (total as f64) < delta * (n * k) as f64 {
            break;
        }
    }
    l
}

/// Approximate neighbours of `q` among the rows of `x`: candidates from the leaves the
/// query falls into, then repeated expansion through the reference lists `(graph, kg)`
/// (row-major `[N, kg]` indices) until no list changes or `max_iter` expansions.
pub(crate) fn query(
    x: &Rows,
    (graph, kg): (&[u32], usize),
    q: &Rows,
    trees: &[Tree],
    k: usize,
    max_iter: usize,
    seed: u64,
) -> Lists {
    let n = x.n;
    let mut keys = vec![u64::MAX; q.n * k];
    let mut fresh = vec![true; q.n * k];
    keys.par_chunks_mut(k)
        .zip(fresh.par_chunks_mut(k))
        .enumerate()
        .for_each_init(
            || Marks::new(n),
            |marks, (i, (row, fr))| {
                marks.next();
                let qi = q.row(i);
                for t in trees {
                    for &j in t.leaf(t.route(qi)) {
                        if marks.visit(j) {
                            insert(row, fr, key(dist2_f32(qi, x.row(j as usize)), j));
                        }
                    }
                }
                let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, i as u64));
                while row[k - 1] == u64::MAX {
                    let j = rng.gen_range(0..n as u32);
                    if marks.visit(j) {
                        insert(row, fr, key(dist2_f32(qi, x.row(j as usize)), j));
                    }
                }
                for _ in 0..max_iter {
                    let expand: Vec<u32> = (0..k)
                        .filter(|&t| fr[t])
                        .map(|t| key_index(row[t]))
                        .collect();
                    fr.iter_mut().for_each(|f| *f = false);
                    if expand.is_empty() {
                        break;
                    }
                    for j in expand {
                        for &v in &graph[j as usize * kg..(j as usize + 1) * kg] {
                            if marks.visit(v) {
                                insert(row, fr, key(dist2_f32(qi, x.row(v as usize)), v));
                            }
                        }
                    }
                }
            },
        );
    Lists {
        k,
        keys,
        fresh,
        order: Vec::new(),
    }
}
