//! The explore page's data: what the file holds equals what was computed, it is self-contained,
//! deterministic, escaped, and its thumbnails follow the budget.
mod explore_data;

use dannscope::explore::{
    build_page, write_page, ExploreError, ExploreParams, NO_NEIGHBOUR, NO_THUMBNAIL,
};
use explore_data::{synthetic, ODD_NAME, ODD_ROW};

fn b64decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let b: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for ch in b.chunks(4) {
        let v: Vec<u32> = ch.iter().map(|&c| u32::from(val(c))).collect();
        let n = v
            .iter()
            .enumerate()
            .fold(0u32, |a, (i, &x)| a | (x << (18 - 6 * i)));
        out.extend(n.to_be_bytes()[1..ch.len()].iter());
    }
    out
}

fn script<'a>(html: &'a str, id: &str) -> &'a str {
    let open = format!("id=\"{id}\">");
    let start = html.find(&open).unwrap_or_else(|| panic!("no {id}")) + open.len();
    let len = html[start..].find("</script>").unwrap();
    &html[start..start + len]
}

fn params(max_thumbnails: usize) -> ExploreParams {
    ExploreParams {
        k: 5,
        max_thumbnails,
        ..ExploreParams::default()
    }
}

#[test]
fn the_file_holds_what_was_computed() {
    let s = synthetic(180, 120, 6, 12, 1);
    let page = build_page(&s.input(), &params(1000), &|i| Some(s.thumb(i))).unwrap();
    assert_eq!(page.n_points, 300);
    assert_eq!(page.n_thumbnails, 300);
    assert_eq!(page.bytes, page.html.len());
    dannscope::report::check_self_contained(&page.html).unwrap();

    // Markup in a file name and the title stays text: only the page's own script elements close.
    assert_eq!(
        page.html.matches("</script>").count(),
        page.html.matches("<script").count()
    );
    assert!(!page.html.contains("<b>x"));
    assert!(page
        .html
        .contains("<title>Synthetic A → C &lt;/script&gt;&lt;test&gt;</title>"));
    let meta_text = script(&page.html, "ds-meta");
    assert!(meta_text.contains(r"Synthetic A → C \u003c/script\u003e\u003ctest\u003e"));

    let meta: serde_json::Value = serde_json::from_str(script(&page.html, "ds-meta")).unwrap();
    assert_eq!(meta["n"], 300);
    assert_eq!(meta["dim"], 12);
    assert_eq!(meta["k_source"], 5);
    assert_eq!(meta["colors"]["classes"][0], "#1f77b4");
    assert_eq!(meta["colors"]["source"], "#e66100");
    assert_eq!(meta["thumbs"]["pages"], 2); // 256 per page
    let dirs: Vec<String> = serde_json::from_value(meta["dirs"].clone()).unwrap();
    let files: Vec<String> = serde_json::from_value(meta["files"].clone()).unwrap();
    assert_eq!(files[ODD_ROW], ODD_NAME);

    let bin = b64decode(script(&page.html, "ds-bin"));
    let col = |name: &str| {
        let c = &meta["columns"][name];
        let (off, len) = (
            c[0].as_u64().unwrap() as usize,
            c[1].as_u64().unwrap() as usize,
        );
        assert_eq!(off % 4, 0, "{name} aligned");
        (off, len)
    };
    let u32s = |name: &str| {
        let (off, len) = col(name);
        bin[off..off + 4 * len]
            .chunks(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
            .collect::<Vec<_>>()
    };
    let f32s = |name: &str| {
        let (off, len) = col(name);
        bin[off..off + 4 * len]
            .chunks(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(f32s("coords"), s.coords.iter().copied().collect::<Vec<_>>());
    assert_eq!(u32s("label"), s.labels);
    assert_eq!(f32s("disc"), s.disc);
    let pred = u32s("pred");
    assert!((0..300).all(|i| pred[i] == s.pred(i)));
    let conf = f32s("conf");
    assert!(conf.iter().all(|&c| c > 1.0 / 6.0 - 1e-6 && c <= 1.0));
    assert_eq!(u32s("nn_source"), page.nearest_source.idx);
    assert_eq!(u32s("nn_target"), page.nearest_target.idx);
    assert_eq!(u32s("thumb"), page.thumbnail_of);
    let dir = u32s("dir");
    for i in 0..300 {
        assert_eq!(format!("{}{}", dirs[dir[i] as usize], files[i]), s.paths[i]);
    }
    // Source neighbours are source rows, target neighbours target rows, never the row itself.
    for i in 0..300 {
        let ns = page.nearest_source.of(i);
        let nt = page.nearest_target.of(i);
        assert_eq!(ns.len(), 5);
        assert!(ns
            .iter()
            .all(|&j| !s.is_target[j as usize] && j as usize != i));
        assert!(nt
            .iter()
            .all(|&j| s.is_target[j as usize] && j as usize != i));
    }
    // Every atlas page is a JPEG.
    for p in 0..2 {
        let jpeg = b64decode(script(&page.html, &format!("ds-t{p}")));
        let img = image::load_from_memory(&jpeg).unwrap();
        assert_eq!(img.width(), 16 * 80);
    }
}

#[test]
fn same_input_same_bytes_whatever_the_threads() {
    let s = synthetic(150, 150, 4, 8, 2);
    let p = params(120);
    let a = build_page(&s.input(), &p, &|i| Some(s.thumb(i))).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let b = pool.install(|| build_page(&s.input(), &p, &|i| Some(s.thumb(i))).unwrap());
    assert!(a.html == b.html, "pages differ");
    let other_seed = ExploreParams { seed: 9, ..p };
    let c = build_page(&s.input(), &other_seed, &|i| Some(s.thumb(i))).unwrap();
    assert_ne!(a.thumbnail_of, c.thumbnail_of);
}

#[test]
fn thumbnails_follow_the_budget_and_missing_images() {
    let s = synthetic(200, 100, 5, 8, 3);
    let page = build_page(&s.input(), &params(90), &|i| Some(s.thumb(i))).unwrap();
    assert_eq!(page.n_thumbnails, 90);
    let with: Vec<usize> = (0..300)
        .filter(|&i| page.thumbnail_of[i] != NO_THUMBNAIL)
        .collect();
    assert_eq!(with.len(), 90);
    // Two thirds of the rows are source rows: about two thirds of the thumbnails too.
    let src = with.iter().filter(|&&i| !s.is_target[i]).count();
    assert!((59..=61).contains(&src), "{src}");
    // Slots are numbered in row order.
    assert!(with
        .windows(2)
        .all(|w| page.thumbnail_of[w[0]] < page.thumbnail_of[w[1]]));

    // Unreadable images leave their rows without a thumbnail, fields intact.
    let page = build_page(&s.input(), &params(1000), &|i| {
        (!i.is_multiple_of(4)).then(|| s.thumb(i))
    })
    .unwrap();
    assert_eq!(page.n_thumbnails, 225);
    assert!((0..300).all(|i| (page.thumbnail_of[i] == NO_THUMBNAIL) == i.is_multiple_of(4)));
}

#[test]
fn small_domains_get_short_lists() {
    let s = synthetic(20, 3, 3, 4, 4);
    let page = build_page(&s.input(), &params(0), &|_| None).unwrap();
    assert_eq!(page.n_thumbnails, 0);
    assert_eq!(page.nearest_target.k, 3);
    // A target row has only two other target rows.
    let row = 21;
    assert_eq!(page.nearest_target.of(row).len(), 2);
    assert_eq!(page.nearest_target.idx[row * 3 + 2], NO_NEIGHBOUR);
    assert_eq!(page.nearest_source.of(row).len(), 5);
}

#[test]
fn bad_input_is_refused() {
    let s = synthetic(10, 10, 3, 4, 5);
    let mut input = s.input();
    input.paths = &s.paths[..19];
    let e = build_page(&input, &params(10), &|_| None).unwrap_err();
    assert!(
        matches!(
            e,
            ExploreError::Rows {
                what: "paths",
                expected: 20,
                got: 19
            }
        ),
        "{e}"
    );

    let mut labels = s.labels.clone();
    labels[4] = 3;
    let mut input = s.input();
    input.labels = &labels;
    let e = build_page(&input, &params(10), &|_| None).unwrap_err();
    assert!(
        matches!(
            e,
            ExploreError::Label {
                row: 4,
                label: 3,
                classes: 3
            }
        ),
        "{e}"
    );

    let mut emb = s.embedding.clone();
    emb[[6, 1]] = f32::NAN;
    let mut input = s.input();
    input.embedding = emb.view();
    let e = build_page(&input, &params(10), &|_| None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "explore page: embedding is not finite in row 6"
    );

    let p = ExploreParams {
        thumb_px: 300,
        ..params(10)
    };
    assert!(matches!(
        build_page(&s.input(), &p, &|_| None),
        Err(ExploreError::Param(_))
    ));
}

#[test]
fn written_atomically_as_an_ordinary_file() {
    let s = synthetic(30, 30, 3, 4, 6);
    let page = build_page(&s.input(), &params(100), &|i| Some(s.thumb(i))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/explore.html");
    let bytes = write_page(&path, &page).unwrap();
    assert_eq!(bytes, std::fs::metadata(&path).unwrap().len());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), page.html);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1
    );
}

/// Squared distance in f64, computed here (not by the library).
fn dist2(s: &explore_data::Synthetic, i: usize, j: usize) -> f64 {
    s.embedding
        .row(i)
        .iter()
        .zip(s.embedding.row(j))
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum()
}

/// The exact `k` nearest rows of `i` among the rows of one domain, by brute force here.
fn brute_force(s: &explore_data::Synthetic, i: usize, target: bool, k: usize) -> Vec<u32> {
    let mut all: Vec<(f64, u32)> = (0..s.labels.len())
        .filter(|&j| j != i && s.is_target[j] == target)
        .map(|j| (dist2(s, i, j), j as u32))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    all.into_iter().take(k).map(|p| p.1).collect()
}

#[test]
fn approximate_neighbours_above_the_threshold() {
    use dannscope::neighbours::Method;
    let s = synthetic(700, 500, 6, 12, 8);
    let n = s.labels.len();
    let k = 6;
    let forced = ExploreParams {
        k,
        approx_threshold: 400,
        ..params(50)
    };
    let page = build_page(&s.input(), &forced, &|i| Some(s.thumb(i))).unwrap();
    assert_eq!(page.nearest_source.method, Method::Approximate);
    assert_eq!(page.nearest_target.method, Method::Approximate);
    let meta = script(&page.html, "ds-meta");
    assert!(meta.contains("\"nn_method_source\":\"approximate\""));
    assert!(meta.contains("\"nn_method_target\":\"approximate\""));

    // Recall against brute force, and every listed row is of the right domain, not the row itself,
    // with its true distance, nearest first.
    let mut hits = 0;
    for i in 0..n {
        for (lists, target) in [(&page.nearest_source, false), (&page.nearest_target, true)] {
            let got = lists.of(i);
            assert_eq!(got.len(), k, "row {i}");
            let want = brute_force(&s, i, target, k);
            hits += got.iter().filter(|j| want.contains(j)).count();
            let mut last = 0.0f64;
            for (t, &j) in got.iter().enumerate() {
                let j = j as usize;
                assert!(j != i && s.is_target[j] == target, "row {i} lists {j}");
                let d = dist2(&s, i, j).sqrt();
                assert!((f64::from(lists.dist[i * k + t]) - d).abs() < 1e-4 * d.max(1.0));
                assert!(d >= last - 1e-9, "row {i}: not nearest first");
                last = d;
            }
        }
    }
    let recall = hits as f64 / (2 * n * k) as f64;
    eprintln!("approximate neighbours: recall {recall:.4} against brute force");
    assert!(recall > 0.9, "recall {recall}");

    // Same seed, same bytes, whatever the number of threads; below the threshold, exact.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let again = pool.install(|| build_page(&s.input(), &forced, &|i| Some(s.thumb(i))).unwrap());
    assert!(page.html == again.html, "pages differ");
    let exact = build_page(
        &s.input(),
        &ExploreParams {
            approx_threshold: 600,
            ..forced.clone()
        },
        &|i| Some(s.thumb(i)),
    )
    .unwrap();
    assert_eq!(exact.nearest_source.method, Method::Approximate);
    assert_eq!(exact.nearest_target.method, Method::Exact);
    for i in (0..n).step_by(7) {
        assert_eq!(exact.nearest_target.of(i), brute_force(&s, i, true, k));
    }
    assert!(script(&exact.html, "ds-meta").contains("\"nn_method_target\":\"exact\""));
}
