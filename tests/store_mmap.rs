//! Memory-mapped store reads: `embedding` and `logits` are viewed in place in the `.npz` (members
//! stored uncompressed and aligned), with the values of an ordinary read into memory bit for bit;
//! stores of the earlier writer (unaligned members) still read, through the owned path; a truncated or
//! corrupt file is a clear error naming it, never a crash; `eval` and `tsne` give the same files
//! through either path.

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::fixtures;
use dannscope::model::OutputNames;
use dannscope::preprocess::{Interpolation, PreprocessConfig};
use dannscope::store::{self, DomainEmbeddings, EmbeddingRecord, Matrix, ModelRecord};
use ndarray::{Array1, Array2};
use ndarray_npy::{NpzReader, NpzWriter};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CLASSES: usize = 4;

/// A domain of `n` rows in `d` columns: seeded clustered values, with edge cases of the f32 format
/// (negative zero, subnormals, extremes) in the first row.
fn domain(name: &str, n: usize, d: usize, seed: u64, sha256: &str) -> DomainEmbeddings {
    let mut g = ChaCha8Rng::seed_from_u64(seed);
    let label: Array1<i64> = (0..n).map(|i| (i % CLASSES) as i64).collect();
    let mut x = Array2::from_shape_fn((n, d), |(i, j)| {
        let c = label[i] as f32;
        (c * ((j % 3) as f32 - 1.0)) * 2.0 + g.gen_range(-1.0f32..1.0)
    });
    let edge = [-0.0, f32::MIN_POSITIVE / 8.0, f32::MAX, f32::MIN, 1e-30];
    for (j, v) in edge.iter().enumerate().take(d) {
        x[[0, j]] = *v;
    }
    let logits = Array2::from_shape_fn((n, CLASSES), |(i, c)| {
        if c as i64 == label[i] {
            2.0 + g.gen_range(-1.0f32..1.0)
        } else {
            g.gen_range(-1.0f32..1.0)
        }
    });
    let domain_logits: Array1<f32> = (0..n).map(|_| g.gen_range(-3.0f32..3.0)).collect();
    let record = EmbeddingRecord {
        format: 2,
        dannscope_version: "test".into(),
        domain: name.into(),
        domain_code: name[..1].into(),
        split: "valid".into(),
        n,
        dim: d,
        n_classes: CLASSES,
        class_names: (0..CLASSES).map(|c| format!("class{c}")).collect(),
        paths: (0..n).map(|i| format!("{name}/{i}.jpg")).collect(),
        skipped: Vec::new(),
        model: ModelRecord {
            path: "tiny.onnx".into(),
            sha256: sha256.into(),
            arch: "tiny".into(),
            metadata: Default::default(),
            outputs: OutputNames {
                embedding: "embedding".into(),
                logits: Some("logits".into()),
                domain_logits: Some("domain_logits".into()),
            },
        },
        preprocess: PreprocessConfig::new(224, 0.875, Interpolation::Bilinear, [0.5; 3], [0.5; 3]),
        engine: "tract".into(),
        provider: "CPU".into(),
        batch_size: 8,
        fingerprint: format!("test-{name}-{n}-{d}-{seed}"),
        data_root: ".".into(),
    };
    DomainEmbeddings {
        embedding: x.into(),
        logits: Some(logits.into()),
        label,
        domain_logits: Some(domain_logits),
        record,
    }
}

/// The arrays as the writer before aligned members wrote them: one in-memory zip, members stored
/// uncompressed with the fixed zip time and no alignment.
fn write_previous(dir: &Path, d: &DomainEmbeddings) {
    let mut buf = Cursor::new(Vec::new());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default());
    let mut z = NpzWriter::new_with_options(&mut buf, opts);
    z.add_array("embedding", &d.embedding.view()).unwrap();
    z.add_array("logits", &d.logits.as_ref().unwrap().view())
        .unwrap();
    z.add_array("label", &d.label).unwrap();
    z.add_array("domain_logits", d.domain_logits.as_ref().unwrap())
        .unwrap();
    let fp: Array1<u8> = d.record.fingerprint.bytes().collect();
    z.add_array("fingerprint", &fp).unwrap();
    z.finish().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let name = &d.record.domain;
    std::fs::write(dir.join(format!("{name}.npz")), buf.into_inner()).unwrap();
    dannscope::atomic::write_json(&dir.join(format!("{name}.json")), &d.record).unwrap();
}

/// An ordinary read of a member into memory (ndarray-npy's reader, not the store's).
fn owned<A: ndarray_npy::ReadableElement, D: ndarray::Dimension>(
    npz: &Path,
    name: &str,
) -> ndarray::Array<A, D> {
    NpzReader::new(std::fs::File::open(npz).unwrap())
        .unwrap()
        .by_name(name)
        .unwrap()
}

fn bits(m: &Matrix) -> Vec<u32> {
    m.view().iter().map(|v| v.to_bits()).collect()
}

fn bits_of(a: &Array2<f32>) -> Vec<u32> {
    a.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn a_written_store_is_mapped_and_equals_an_owned_read_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let d = domain("Source", 37, 19, 1, "0");
    store::write_domain(tmp.path(), &d).unwrap();
    let npz = tmp.path().join("Source.npz");
    let got = store::read_domain(tmp.path(), "Source").unwrap();
    assert!(
        got.embedding.is_mapped(),
        "{:?}",
        got.embedding.view().shape()
    );
    assert!(got.logits.as_ref().unwrap().is_mapped());
    assert_eq!(bits(&got.embedding), bits_of(&owned(&npz, "embedding")));
    assert_eq!(bits(&got.embedding), bits(&d.embedding));
    let l = got.logits.as_ref().unwrap();
    assert_eq!(bits(l), bits_of(&owned(&npz, "logits")));
    assert_eq!(bits(l), bits(d.logits.as_ref().unwrap()));
    assert_eq!(got.label, owned::<i64, _>(&npz, "label"));
    assert_eq!(got.label, d.label);
    assert_eq!(got.domain_logits, d.domain_logits);
    assert_eq!(got.record, d.record);
    // Every member's data starts on an ALIGN boundary of the file.
    let mut z = zip::ZipArchive::new(std::fs::File::open(&npz).unwrap()).unwrap();
    for i in 0..z.len() {
        let m = z.by_index_raw(i).unwrap();
        assert_eq!(m.compression(), zip::CompressionMethod::Stored);
        assert_eq!(
            m.data_start() % store::ALIGN as u64,
            0,
            "{} starts at {}",
            m.name(),
            m.data_start()
        );
    }
    // The same arrays give the same bytes (what makes a merge of shards equal a single run).
    let again = tempfile::tempdir().unwrap();
    store::write_domain(again.path(), &got).unwrap();
    assert_eq!(
        std::fs::read(&npz).unwrap(),
        std::fs::read(again.path().join("Source.npz")).unwrap()
    );
}

#[test]
fn a_store_of_the_previous_writer_reads_through_the_owned_path_with_the_same_values() {
    let tmp = tempfile::tempdir().unwrap();
    let d = domain("Target", 41, 13, 2, "0");
    let (old, new) = (tmp.path().join("old"), tmp.path().join("new"));
    write_previous(&old, &d);
    store::write_domain(&new, &d).unwrap();
    assert_ne!(
        std::fs::read(old.join("Target.npz")).unwrap(),
        std::fs::read(new.join("Target.npz")).unwrap(),
        "the writers differ in layout"
    );
    let a = store::read_domain(&old, "Target").unwrap();
    let b = store::read_domain(&new, "Target").unwrap();
    // The previous writer's embedding starts at an odd offset: not viewable as f32 in place.
    assert!(!a.embedding.is_mapped());
    assert!(b.embedding.is_mapped());
    assert_eq!(bits(&a.embedding), bits(&b.embedding));
    assert_eq!(
        bits(a.logits.as_ref().unwrap()),
        bits(b.logits.as_ref().unwrap())
    );
    assert_eq!(a.label, b.label);
    assert_eq!(a.domain_logits, b.domain_logits);
    assert_eq!(bits(&a.embedding), bits(&d.embedding));
}

fn read_err(dir: &Path, domain: &str) -> String {
    match store::read_domain(dir, domain) {
        Ok(_) => panic!("{domain}: read a damaged file"),
        Err(e) => {
            eprintln!("{e}");
            e.to_string()
        }
    }
}

/// Offset of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{:?} not found", String::from_utf8_lossy(needle)))
}

#[test]
fn a_truncated_or_corrupt_store_is_a_clear_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = domain("Source", 64, 32, 3, "0");
    store::write_domain(tmp.path(), &d).unwrap();
    let npz = tmp.path().join("Source.npz");
    let good = std::fs::read(&npz).unwrap();
    let name = npz.display().to_string();
    let emb_at = find(&good, b"embedding.npy");
    // Truncated anywhere: inside the directory at the end, inside the data, inside the headers.
    for cut in [
        good.len() - 1,
        good.len() - 30,
        good.len() / 2,
        emb_at + 200,
        10,
        0,
    ] {
        std::fs::write(&npz, &good[..cut]).unwrap();
        let e = read_err(tmp.path(), "Source");
        assert!(e.contains(&name), "cut at {cut}: {e}");
    }
    // The directory claims more bytes for `embedding` than the file holds: refused before mapping.
    let mut bad = good.clone();
    let cd = find(&bad[emb_at + 20..], b"PK\x01\x02") + emb_at + 20;
    assert_eq!(&bad[cd + 46..cd + 46 + 13], b"embedding.npy");
    for off in [cd + 20, cd + 24] {
        bad[off..off + 4].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
    }
    std::fs::write(&npz, &bad).unwrap();
    let e = read_err(tmp.path(), "Source");
    assert!(e.contains(&name) && e.contains("embedding"), "{e}");
    // The npy header claims more rows than the member holds (checksums made to match).
    let mut bad = good.clone();
    let at = find(&bad, b"(64, 32)");
    bad[at..at + 8].copy_from_slice(b"(96, 32)");
    let (start, len, local) = {
        let mut z = zip::ZipArchive::new(Cursor::new(&bad)).unwrap();
        let m = z.by_name("embedding.npy").unwrap();
        (
            m.data_start() as usize,
            m.compressed_size() as usize,
            m.header_start() as usize,
        )
    };
    let crc = crc32fast::hash(&bad[start..start + len]).to_le_bytes();
    bad[cd + 16..cd + 20].copy_from_slice(&crc);
    bad[local + 14..local + 18].copy_from_slice(&crc);
    std::fs::write(&npz, &bad).unwrap();
    let e = read_err(tmp.path(), "Source");
    assert!(
        e.contains(&name) && e.contains("embedding") && e.contains("missing"),
        "{e}"
    );
    // One flipped bit in the data: the checksum catches it, as an owned read does.
    let mut bad = good.clone();
    let at = find(&bad, b"(64, 32)") + 200;
    bad[at] ^= 0x10;
    std::fs::write(&npz, &bad).unwrap();
    let e = read_err(tmp.path(), "Source");
    assert!(e.contains(&name) && e.contains("checksum"), "{e}");
    // A non-finite value is named with its file, row and image.
    let mut dn = d.clone();
    let mut x = dn.embedding.clone().into_owned();
    x[[5, 7]] = f32::NAN;
    dn.embedding = x.into();
    store::write_domain(tmp.path(), &dn).unwrap();
    let e = read_err(tmp.path(), "Source");
    assert!(
        e.contains(&name) && e.contains("row 5") && e.contains("Source/5.jpg"),
        "{e}"
    );
    // And an intact file reads again.
    std::fs::write(&npz, &good).unwrap();
    assert!(store::read_domain(tmp.path(), "Source").is_ok());
}

fn tiny() -> PathBuf {
    fixtures().join("models/tiny.onnx")
}

/// `eval` then `tsne` of the stored pair in `out`; the files they wrote, by name, with their bytes.
fn eval_and_map(out: &Path) -> Vec<(String, Vec<u8>)> {
    for sub in ["eval", "tsne"] {
        let mut c = Command::cargo_bin("dannscope").unwrap();
        c.arg(sub)
            .arg("--model")
            .arg(tiny())
            .arg("--out")
            .arg(out)
            .args(["--pair", "S-T"])
            .assert()
            .success();
    }
    let mut files = Vec::new();
    for dir in ["metrics/tiny/valid", "tsne/tiny/valid"] {
        let mut names: Vec<_> = std::fs::read_dir(out.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        names.sort();
        for p in names {
            files.push((
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            ));
        }
    }
    files
}

#[test]
fn eval_and_tsne_give_the_same_files_through_the_mapped_and_the_owned_path() {
    let sha = store::sha256_file(&tiny()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (mapped, owned) = (tmp.path().join("mapped"), tmp.path().join("owned"));
    let store_of = |out: &Path| out.join("embeddings/tiny/valid");
    for (i, name) in ["Source", "Target"].iter().enumerate() {
        let d = domain(name, 120, 24, 10 + i as u64, &sha);
        store::write_domain(&store_of(&mapped), &d).unwrap();
        write_previous(&store_of(&owned), &d);
        let m = store::read_domain(&store_of(&mapped), name).unwrap();
        let o = store::read_domain(&store_of(&owned), name).unwrap();
        assert!(m.embedding.is_mapped() && !o.embedding.is_mapped());
    }
    let a = eval_and_map(&mapped);
    let b = eval_and_map(&owned);
    let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"metrics.json") && names.iter().any(|n| n.ends_with(".npz")),
        "{names:?}"
    );
    assert_eq!(names, b.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>());
    for ((n, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{n} differs between the mapped and the owned read");
    }
}
