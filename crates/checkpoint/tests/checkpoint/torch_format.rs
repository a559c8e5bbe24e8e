//! `.pt` files assembled in the test from the format (`support`: a ZIP of
//! stored entries, the pickle from opcodes): what is read equals what was
//! written, views are read in their logical order, and what cannot be
//! read is a one-line error naming the file.

use std::path::Path;

use checkpoint::{Checkpoint, CheckpointError, read_checkpoint};
use faer::Mat;

use crate::support::*;

/// A 3 → 2 → 1 network with biases, PyTorch's names, values exact in f32.
fn small() -> Vec<(&'static str, Vec<usize>, Vec<f64>)> {
    vec![
        (
            "0.weight",
            vec![2, 3],
            vec![0.5, -1.25, 2.0, 0.125, -0.75, 3.5],
        ),
        ("0.bias", vec![2], vec![0.25, -0.5]),
        ("2.weight", vec![1, 2], vec![1.5, -2.25]),
        ("2.bias", vec![1], vec![0.0625]),
    ]
}

fn read(path: &Path) -> Result<Checkpoint, CheckpointError> {
    read_checkpoint(path, None)
}

/// The matrix of row-major `values`.
fn mat(rows: usize, cols: usize, values: &[f64]) -> Mat<f64> {
    Mat::from_fn(rows, cols, |i, j| values[i * cols + j])
}

/// `net` holds exactly the tensors of `small()` (in f64: every value is
/// exact in the stored precision).
fn assert_small(net: &Checkpoint) {
    let t = small();
    assert_eq!(net.layers.len(), 2);
    for (l, layer) in net.layers.iter().enumerate() {
        let (wn, ws, wv) = &t[2 * l];
        let (bn, _, bv) = &t[2 * l + 1];
        assert_eq!(&layer.weight_name, wn);
        assert_eq!(layer.weight, mat(ws[0], ws[1], wv), "{wn}");
        let (name, b) = layer.bias.as_ref().expect("a bias");
        assert_eq!(name, bn);
        assert_eq!(*b, mat(1, bv.len(), bv), "{bn}");
    }
}

#[test]
fn float32_and_float64_state_dicts_read_the_values_written() {
    let dir = Scratch::new("f32-f64");
    for (case, make) in [
        ("f32", Raw::f32 as fn(&str, &[usize], &[f64]) -> Raw),
        ("f64", Raw::f64),
    ] {
        let tensors: Vec<Raw> = small().iter().map(|(n, s, v)| make(n, s, v)).collect();
        let p = dir.write(&format!("{case}.pt"), &state_dict_file(&tensors));
        let net = read(&p).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_small(&net);
        assert_eq!(net.widths(), [3, 2, 1]);
    }
    // Values that float32 does not hold exactly are read as f64 bit for bit.
    let v = [0.1, -1.0 / 3.0, 1e-300, std::f64::consts::PI, -2.5e10, 7.0];
    let p = dir.write(
        "f64-exact.pt",
        &state_dict_file(&[Raw::f64("weight", &[2, 3], &v)]),
    );
    let net = read(&p).unwrap();
    assert_eq!(net.layers[0].weight, mat(2, 3, &v));
    assert!(net.layers[0].bias.is_none());
}

#[test]
fn float16_and_bfloat16_are_widened_exactly() {
    // Bit patterns and their values by the IEEE 754 binary16 and bfloat16
    // definitions (sign, exponent, mantissa), not by a conversion library.
    let f16 = [
        (0x3C00u16, 1.0),
        (0xC000, -2.0),
        (0x3555, 0.333_251_953_125),        // (1 + 341/1024) · 2^-2
        (0x7BFF, 65504.0),                  // largest finite
        (0x0001, 5.960_464_477_539_063e-8), // 2^-24, smallest subnormal
        (0x8400, -6.103_515_625e-5),        // −2^-14, smallest normal
    ];
    let bf16 = [
        (0x3F80u16, 1.0),
        (0xC040, -3.0),
        (0x3EAB, 0.333_984_375),              // (1 + 43/128) · 2^-2
        (0x7F7F, 3.389_531_389_251_535_5e38), // largest finite
        (0x0001, 9.183_549_615_799_121e-41),  // 2^-133, smallest subnormal
        (0x4049, 3.140_625),
    ];
    let dir = Scratch::new("half");
    for (case, class, table) in [
        ("f16", "HalfStorage", &f16),
        ("bf16", "BFloat16Storage", &bf16),
    ] {
        let bytes: Vec<u8> = table.iter().flat_map(|(b, _)| b.to_le_bytes()).collect();
        let want: Vec<f64> = table.iter().map(|&(_, v)| v).collect();
        let p = dir.write(
            &format!("{case}.pt"),
            &state_dict_file(&[Raw::new("fc.weight", class, &[2, 3], bytes)]),
        );
        let net = read(&p).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(net.layers[0].weight, mat(2, 3, &want), "{case}");
    }
}

#[test]
fn a_transposed_weight_and_offset_views_are_read_in_logical_order() {
    // W (2 × 3) = [[1, 2, 3], [4, 5, 6]] saved as the transpose of a
    // contiguous 3 × 2 tensor: storage W in column-major order, stride
    // [1, 2]. The bias is a view at offset 6 of the same storage (as a
    // slice of a larger tensor is saved); the second layer's weight is the
    // view at offset 8 with stride [1, 2] (every other element: [9, 0.25])
    // and its bias the element between (offset 9).
    let storage = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0, -1.0, -2.0, 9.0, 0.5, 0.25];
    let bytes: Vec<u8> = storage
        .iter()
        .flat_map(|&v| (v as f32).to_le_bytes())
        .collect();
    let view = |offset, shape: &[usize], stride: &[usize]| TensorRef {
        class: "FloatStorage",
        key: "0".into(),
        numel: storage.len(),
        offset,
        shape: shape.to_vec(),
        stride: stride.to_vec(),
    };
    let items = [
        ("0.weight", view(0, &[2, 3], &[1, 2])),
        ("0.bias", view(6, &[2], &[1])),
        ("1.weight", view(8, &[1, 2], &[1, 2])),
        ("1.bias", view(9, &[1], &[1])),
    ];
    let pickle = Pickle::new().ordered_dict().tensor_items(&items).finish();
    let dir = Scratch::new("strided");
    let p = dir.write("t.pt", &torch_zip(&pickle, &[("0".into(), bytes)]));
    let net = read(&p).unwrap();
    let l0 = &net.layers[0];
    assert_eq!(l0.weight, mat(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
    assert_eq!(l0.bias.as_ref().unwrap().1, mat(1, 2, &[-1.0, -2.0]));
    let l1 = &net.layers[1];
    assert_eq!(l1.weight, mat(1, 2, &[9.0, 0.25]));
    assert_eq!(l1.bias.as_ref().unwrap().1, mat(1, 1, &[0.5]));
}

#[test]
fn a_view_that_repeats_its_storage_beyond_the_file_is_refused_before_reading() {
    // One float32 expanded (stride 0) to 30000 × 30000: 3.6 GB declared by
    // a file of a few hundred bytes (below pytorch-reader's own 10 GiB
    // limit). Refused by its size, never allocated.
    let bytes = 1.5f32.to_le_bytes().to_vec();
    let expanded = TensorRef {
        class: "FloatStorage",
        key: "0".into(),
        numel: 1,
        offset: 0,
        shape: vec![30_000, 30_000],
        stride: vec![0, 0],
    };
    let pickle = Pickle::new()
        .ordered_dict()
        .tensor_items(&[("0.weight", expanded)])
        .finish();
    let dir = Scratch::new("expanded");
    let p = dir.write("big.pt", &torch_zip(&pickle, &[("0".into(), bytes)]));
    let err = read(&p).unwrap_err();
    assert!(matches!(err, CheckpointError::Shape { .. }), "{err:?}");
    assert_one_line(
        &err,
        &p,
        &[
            "`0.weight`",
            "[30000, 30000]",
            "3600000000 bytes",
            ".contiguous()",
        ],
    );
}

#[test]
fn a_state_dict_nested_under_state_dict_is_read_alone() {
    // {"epoch": 7, "state_dict": OrderedDict(...), "best": {"w.weight":
    // tensor}}: a tensor outside the state dict must not become a layer.
    let tensors: Vec<Raw> = small().iter().map(|(n, s, v)| Raw::f32(n, s, v)).collect();
    let (items, mut storages) = items_and_storages(&tensors, 0);
    let extra = Raw::f32("w.weight", &[1, 3], &[1.0, 2.0, 3.0]);
    let extra_view = extra.view("9");
    storages.push(("9".into(), extra.bytes.clone()));
    let mut p = Pickle::new();
    p.op(EMPTY_DICT).op(MARK).str("epoch").int(7);
    p.str("state_dict").ordered_dict().tensor_items(&items);
    p.str("best")
        .op(EMPTY_DICT)
        .str("w.weight")
        .tensor(&extra_view)
        .op(SETITEM);
    p.op(SETITEMS);
    let dir = Scratch::new("nested");
    let file = dir.write("ckpt.pt", &torch_zip(&p.finish(), &storages));
    let net = read(&file).unwrap();
    assert_small(&net);
    // The same tensors at the root give the same network.
    let flat = dir.write("flat.pt", &state_dict_file(&tensors));
    assert_eq!(read(&flat).unwrap().layers, net.layers);
}

#[test]
fn an_int64_weight_names_the_file_the_tensor_and_the_dtype() {
    let dir = Scratch::new("int64");
    let p = dir.write(
        "int.pt",
        &state_dict_file(&[
            Raw::i64("0.weight", &[2, 3], &[1, 2, 3, 4, 5, 6]),
            Raw::f32("0.bias", &[2], &[0.0, 0.0]),
        ]),
    );
    let err = read(&p).unwrap_err();
    assert!(
        matches!(err, CheckpointError::UnsupportedDtype { .. }),
        "{err:?}"
    );
    assert_one_line(&err, &p, &["`0.weight`", "int64", "float32"]);
}

#[test]
fn an_unknown_class_holding_a_storage_is_an_error_naming_it() {
    // `__main__.Foo(storage)`, as a pickled custom object holding tensor data.
    let mut p = Pickle::new();
    p.ordered_dict().op(MARK).str("0.weight");
    p.global("__main__", "Foo")
        .op(MARK)
        .storage("FloatStorage", "0", 6)
        .op(TUPLE)
        .op(REDUCE);
    p.op(SETITEMS);
    let dir = Scratch::new("foo");
    let file = dir.write(
        "foo.pt",
        &torch_zip(&p.finish(), &[("0".into(), vec![0; 24])]),
    );
    let err = read(&file).unwrap_err();
    assert_one_line(&err, &file, &["__main__.Foo"]);
}

#[test]
fn a_sparse_tensor_is_an_error_naming_its_rebuild() {
    // torch._utils._rebuild_sparse_tensor(torch.sparse_coo, (indices,
    // values, size)), as torch.save writes a COO tensor.
    let indices = Raw::i64("i", &[2, 2], &[0, 1, 1, 2]);
    let values = Raw::f32("v", &[2], &[3.0, 4.0]);
    let mut p = Pickle::new();
    p.ordered_dict().op(MARK).str("0.weight");
    p.global("torch._utils", "_rebuild_sparse_tensor")
        .op(MARK)
        .global("torch", "sparse_coo")
        .op(MARK)
        .tensor(&indices.view("0"))
        .tensor(&values.view("1"))
        .int_tuple(&[2, 3])
        .op(TUPLE)
        .op(TUPLE)
        .op(REDUCE);
    p.op(SETITEMS);
    let dir = Scratch::new("sparse");
    let file = dir.write(
        "sparse.pt",
        &torch_zip(
            &p.finish(),
            &[
                ("0".into(), indices.bytes.clone()),
                ("1".into(), values.bytes.clone()),
            ],
        ),
    );
    let err = read(&file).unwrap_err();
    assert_one_line(&err, &file, &["_rebuild_sparse_tensor"]);
}

#[test]
fn an_opaque_object_without_tensors_beside_the_state_dict_is_ignored() {
    // {"state_dict": ..., "args": __main__.Config()}: metadata the reader
    // cannot interpret, holding no tensor data, does not stop the read.
    let tensors: Vec<Raw> = small().iter().map(|(n, s, v)| Raw::f32(n, s, v)).collect();
    let (items, storages) = items_and_storages(&tensors, 0);
    let mut p = Pickle::new();
    p.op(EMPTY_DICT).op(MARK);
    p.str("state_dict").ordered_dict().tensor_items(&items);
    p.str("args")
        .global("__main__", "Config")
        .op(EMPTY_TUPLE)
        .op(REDUCE)
        .op(EMPTY_DICT)
        .str("lr")
        .int(1)
        .op(SETITEM)
        .op(BUILD);
    p.op(SETITEMS);
    let dir = Scratch::new("opaque");
    let file = dir.write("ckpt.pt", &torch_zip(&p.finish(), &storages));
    assert_small(&read(&file).unwrap());
}

#[test]
fn a_file_without_tensors_is_an_error() {
    let dir = Scratch::new("empty");
    let empty = dir.write(
        "empty.pt",
        &torch_zip(&Pickle::new().ordered_dict().finish(), &[]),
    );
    let err = read(&empty).unwrap_err();
    assert_one_line(&err, &empty, &["no layers"]);

    let mut p = Pickle::new();
    p.op(EMPTY_DICT)
        .op(MARK)
        .str("epoch")
        .int(3)
        .str("state_dict")
        .ordered_dict();
    p.op(SETITEMS);
    let nested = dir.write("nested.pt", &torch_zip(&p.finish(), &[]));
    let err = read(&nested).unwrap_err();
    assert_one_line(&err, &nested, &["no layers"]);
}

#[test]
fn a_storage_missing_from_the_archive_or_shorter_than_declared_is_an_error() {
    let tensors: Vec<Raw> = small().iter().map(|(n, s, v)| Raw::f32(n, s, v)).collect();
    let (pickle, mut storages) = state_dict_pickle(&tensors);
    let dir = Scratch::new("storage");
    storages[2].1.truncate(4);
    let short = dir.write("short.pt", &torch_zip(&pickle, &storages));
    let err = read(&short).unwrap_err();
    assert!(matches!(err, CheckpointError::Truncated { .. }), "{err:?}");
    assert_one_line(&err, &short, &["2.weight"]);
    storages.remove(2);
    let missing = dir.write("missing.pt", &torch_zip(&pickle, &storages));
    let err = read(&missing).unwrap_err();
    assert_one_line(&err, &missing, &["2.weight", "archive/data/2"]);
}

#[test]
fn a_tensor_name_holding_a_newline_keeps_the_message_on_one_line() {
    // Names come from the file: one with a line break (or any control
    // character) must not break the message into lines.
    let dir = Scratch::new("newline");
    let p = dir.write(
        "nl.pt",
        &state_dict_file(&[
            Raw::f32("0.weight", &[1, 2], &[1.0, 2.0]),
            Raw::f32("0.bi\nas\r", &[1], &[0.0]),
        ]),
    );
    let err = read(&p).unwrap_err();
    assert_one_line(&err, &p, &["0.bi\\nas\\r"]);
}

#[test]
fn a_checksum_that_does_not_match_is_a_format_error() {
    // A byte of the stored `archive/data.pkl` changed without its CRC-32:
    // the file is corrupt (a format error), not unreadable (an I/O error).
    let tensors: Vec<Raw> = small().iter().map(|(n, s, v)| Raw::f32(n, s, v)).collect();
    let mut bytes = state_dict_file(&tensors);
    // The first entry's data follow its 30-byte local header and name.
    let at = 30 + "archive/data.pkl".len() + 10;
    bytes[at] ^= 0x20;
    let dir = Scratch::new("crc");
    let p = dir.write("crc.pt", &bytes);
    let err = read(&p).unwrap_err();
    assert!(matches!(err, CheckpointError::Format { .. }), "{err:?}");
    assert_one_line(&err, &p, &["PyTorch"]);
}
