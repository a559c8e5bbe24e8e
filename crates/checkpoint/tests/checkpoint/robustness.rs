//! No bytes make a reader panic: valid files of every accepted format,
//! truncated anywhere and with any bytes flipped, are read or refused with
//! a one-line `CheckpointError` (a panic fails the property).

use std::path::Path;

use checkpoint::{Precision, read_checkpoint, read_npy, write_checkpoint, write_npy};
use networks::Activation;
use proptest::prelude::*;
use proptest::sample::Index;

use crate::support::*;

/// The valid files the mutations start from.
struct Originals {
    /// `fixtures/checkpoints/torch/model.pt`, as PyTorch wrote it.
    torch: Vec<u8>,
    /// The same network written by `write_checkpoint` (safetensors, f32).
    safetensors: Vec<u8>,
    /// `x.npy` of the fixture written by `write_npy` (float64).
    npy: Vec<u8>,
    /// A state dict's pickle and storages (`support`), for mutations
    /// inside a `.pt` archive that keep its CRCs valid: PyTorch's ZIP
    /// entries carry CRC-32s that the reader checks, so flipping a byte of
    /// the file's pickle is caught by the checksum before the pickle is
    /// parsed; re-archiving the flipped pickle reaches the parser.
    pickle: Vec<u8>,
    storages: Storages,
}

fn originals(dir: &Scratch) -> Originals {
    let fixture = torch_fixture("model.pt");
    let net = read_checkpoint(&fixture, None).unwrap();
    let st = dir.path("original.safetensors");
    let prefixes: Vec<String> = ["0", "2", "4"].map(String::from).to_vec();
    write_checkpoint(
        &st,
        &net.architecture(Activation::Relu),
        &net.params(),
        &prefixes,
        Precision::F32,
    )
    .unwrap();
    let x = read_npy(&torch_fixture("x.npy"), "x").unwrap();
    let npy = dir.path("original.npy");
    write_npy(&npy, x.as_ref()).unwrap();
    let (pickle, storages) = state_dict_pickle(&[
        Raw::f32("0.weight", &[2, 3], &[0.5, -1.0, 2.0, 0.25, 4.0, -8.0]),
        Raw::f32("0.bias", &[2], &[0.5, -0.5]),
        Raw::f64("2.weight", &[1, 2], &[1.5, -2.25]),
        Raw::new(
            "2.bias",
            "HalfStorage",
            &[1],
            0x3C00u16.to_le_bytes().to_vec(),
        ),
    ]);
    Originals {
        torch: std::fs::read(&fixture).unwrap(),
        safetensors: std::fs::read(&st).unwrap(),
        npy: std::fs::read(&npy).unwrap(),
        pickle,
        storages,
    }
}

/// `bytes` cut to a length chosen by `cut` (whole if `None`), then `flips`
/// (position, xor mask) applied.
fn mutate(bytes: &[u8], cut: Option<Index>, flips: &[(Index, u8)]) -> Vec<u8> {
    let len = cut.map_or(bytes.len(), |c| c.index(bytes.len() + 1));
    let mut out = bytes[..len].to_vec();
    if !out.is_empty() {
        for (at, mask) in flips {
            let k = at.index(out.len());
            out[k] ^= mask;
        }
    }
    out
}

/// Every reader on `path`: Ok, or an error whose message is one line and
/// names the file.
fn read_all(path: &Path) -> Result<(), TestCaseError> {
    let layers: Vec<String> = ["0", "2", "4"].map(String::from).to_vec();
    let results = [
        read_checkpoint(path, None).map(drop),
        read_checkpoint(path, Some(&layers)).map(drop),
        read_npy(path, "x").map(drop),
    ];
    let file = path.display().to_string();
    for r in results {
        if let Err(e) = r {
            let msg = e.to_string();
            prop_assert!(!msg.contains('\n'), "not one line: {msg:?}");
            prop_assert!(msg.contains(&file), "no file name: {msg}");
        }
    }
    Ok(())
}

/// The originals, built once per test binary.
fn shared() -> &'static Originals {
    static ORIGINALS: std::sync::OnceLock<Originals> = std::sync::OnceLock::new();
    ORIGINALS.get_or_init(|| {
        let dir = Scratch::new("robustness-originals");
        originals(&dir)
    })
}

/// Where to cut: half the cases keep the whole length (and only flip
/// bytes), the others cut at any length from 0 to the whole.
fn cut() -> impl Strategy<Value = Option<Index>> {
    prop::option::of(any::<Index>())
}

/// Up to 3 flips, each of any nonzero mask.
fn flips() -> impl Strategy<Value = Vec<(Index, u8)>> {
    prop::collection::vec((any::<Index>(), 1u8..=255), 0..4)
}

/// Cases per property: each writes and reads a few kilobytes (about half a
/// millisecond on this machine), so 2048 cases take about a second per
/// property; the first run found the multi-line `.npy` parse error within
/// 30 cases.
const CASES: u32 = 2048;

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn corrupted_files_of_every_format_are_read_or_refused_in_one_line(
        format in 0usize..3,
        cut in cut(),
        flips in flips(),
    ) {
        let o = shared();
        let original = [&o.torch, &o.safetensors, &o.npy][format];
        let bytes = mutate(original, cut, &flips);
        let dir = Scratch::new("robustness-file");
        let path = dir.write(&format!("mutated-{format}"), &bytes);
        read_all(&path)?;
    }

    #[test]
    fn corrupted_pickles_and_storages_in_a_valid_archive_are_read_or_refused_in_one_line(
        cut in cut(),
        flips in flips(),
        storage in any::<Index>(),
        storage_flips in flips(),
    ) {
        let o = shared();
        let pickle = mutate(&o.pickle, cut, &flips);
        let mut storages = o.storages.clone();
        let k = storage.index(storages.len());
        storages[k].1 = mutate(&storages[k].1, None, &storage_flips);
        let dir = Scratch::new("robustness-archive");
        let path = dir.write("mutated.pt", &torch_zip(&pickle, &storages));
        read_all(&path)?;
    }
}

#[test]
fn the_originals_are_valid() {
    // The properties start from files every reader accepts (else they
    // would test only the first error).
    let o = shared();
    let dir = Scratch::new("robustness-valid");
    for (name, bytes) in [
        ("model.pt", &o.torch),
        ("model.safetensors", &o.safetensors),
    ] {
        let p = dir.write(name, bytes);
        let net = read_checkpoint(&p, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(net.widths(), [8, 16, 16, 3], "{name}");
    }
    let p = dir.write("x.npy", &o.npy);
    assert_eq!(read_npy(&p, "x").unwrap().nrows(), 20);
    let p = dir.write("small.pt", &torch_zip(&o.pickle, &o.storages));
    assert_eq!(read_checkpoint(&p, None).unwrap().widths(), [3, 2, 1]);
}

/// An `.npy` file per the NumPy format: magic, version 1.0, u16 LE header
/// length, the header dict padded to a multiple of 64, then `data`.
fn npy_bytes(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut header = dict.to_owned();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

#[test]
fn npy_headers_declaring_absurd_shapes_or_odd_dtypes_are_refused_in_one_line() {
    let dir = Scratch::new("npy-headers");
    let data = [0u8; 64];
    for (case, dict) in [
        // rows · cols · 8 overflows 64 bits.
        (
            "overflow",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
        ),
        (
            "overflow-item",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3074457345618258603, 1), }",
        ),
        // Far more data than the file holds, without overflow.
        (
            "huge",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }",
        ),
        // A structured dtype whose field name holds a line break.
        (
            "record",
            "{'descr': [('a\\nb', '<f8')], 'fortran_order': False, 'shape': (2,), }",
        ),
        (
            "syntax",
            "{'descr': '<f8', 'fortran_order': Fals, 'shape': (2,), }",
        ),
    ] {
        let p = dir.write(&format!("{case}.npy"), &npy_bytes(dict, &data));
        let err = read_npy(&p, "x").expect_err(case);
        assert_one_line(&err, &p, &[]);
    }
}
