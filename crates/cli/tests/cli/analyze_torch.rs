//! `analyze --weights FILE.pt`: the PyTorch fixture
//! (`fixtures/checkpoints/torch/`, written by real PyTorch) is analysed
//! from its state dict and from its training checkpoint alike, and an
//! unsupported `.pt` file is a one-line error naming it, exit status 2.

use std::path::{Path, PathBuf};

use crate::support::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/checkpoints/torch")
        .join(name)
}

/// `analyze --weights WEIGHTS --data x.npy --activation relu --quiet`:
/// its JSON.
fn analyze_json(weights: &Path, out: &Path) -> serde_json::Value {
    let (code, _, stderr) = analyze(&[
        "--weights",
        path(weights),
        "--data",
        path(&fixture("x.npy")),
        "--activation",
        "relu",
        "--out",
        path(out),
        "--quiet",
    ]);
    assert_eq!(code, Some(0), "{}: {stderr}", weights.display());
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

#[test]
fn a_training_checkpoint_is_analysed_as_its_state_dict() {
    let dir = scratch("torch-checkpoint");
    let from_ckpt = analyze_json(&fixture("checkpoint.pt"), &dir.join("a.json"));
    let from_model = analyze_json(&fixture("model.pt"), &dir.join("b.json"));
    let layers = from_ckpt["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), 3);
    assert_eq!(layers[0]["tensor"], "0.weight");
    assert_eq!(from_ckpt["widths"], serde_json::json!([8, 16, 16, 3]));
    // The same float32 weights and the same binary: the same numbers,
    // exactly.
    assert_eq!(from_ckpt["layers"], from_model["layers"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_int64_weight_is_a_one_line_error_naming_the_file() {
    let dir = scratch("torch-int64");
    let weights = dir.join("int64.pt");
    std::fs::write(&weights, int64_state_dict()).unwrap();
    let (code, stdout, stderr) = analyze(&[
        "--weights",
        path(&weights),
        "--data",
        path(&fixture("x.npy")),
        "--activation",
        "relu",
        "--out",
        path(&dir.join("out.json")),
    ]);
    assert_eq!(code, Some(2), "stdout: {stdout}, stderr: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    for needle in [path(&weights), "`0.weight`", "int64"] {
        assert!(stderr.contains(needle), "`{needle}` missing from: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `torch.save(OrderedDict(0.weight = int64 [3, 8], 0.bias = int64 [3]))`
/// assembled from the format: a ZIP archive of stored entries
/// (`archive/data.pkl`, `archive/data/0`, `archive/data/1`,
/// `archive/version`) whose pickle (protocol 2) rebuilds each tensor with
/// `torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False,
/// OrderedDict())`, the storage a persistent id `('storage',
/// torch.LongStorage, key, 'cpu', numel)`.
fn int64_state_dict() -> Vec<u8> {
    let tensors: [(&str, &[u8], i64); 2] = [("0.weight", &[3, 8], 24), ("0.bias", &[3], 3)];
    let mut pkl = b"\x80\x02ccollections\nOrderedDict\n)R(".to_vec();
    let text = |pkl: &mut Vec<u8>, s: &str| {
        pkl.push(b'X');
        pkl.extend((s.len() as u32).to_le_bytes());
        pkl.extend(s.as_bytes());
    };
    let mut entries = Vec::new();
    for (key, (name, shape, numel)) in tensors.iter().enumerate() {
        text(&mut pkl, name);
        pkl.extend(b"ctorch._utils\n_rebuild_tensor_v2\n((");
        text(&mut pkl, "storage");
        pkl.extend(b"ctorch\nLongStorage\n");
        text(&mut pkl, &key.to_string());
        text(&mut pkl, "cpu");
        pkl.extend([b'K', *numel as u8, b't', b'Q', b'K', 0, b'(']);
        for &d in *shape {
            pkl.extend([b'K', d]);
        }
        pkl.extend(b"t(");
        let mut stride = 1u8;
        let mut strides = Vec::new();
        for &d in shape.iter().rev() {
            strides.push(stride);
            stride *= d;
        }
        for s in strides.iter().rev() {
            pkl.extend([b'K', *s]);
        }
        pkl.extend(b"t\x89ccollections\nOrderedDict\n)RtR");
        let data: Vec<u8> = (0..*numel).flat_map(|v| v.to_le_bytes()).collect();
        entries.push((format!("archive/data/{key}"), data));
    }
    pkl.extend(b"u.");
    entries.insert(0, ("archive/data.pkl".to_owned(), pkl));
    entries.push(("archive/version".to_owned(), b"3\n".to_vec()));
    stored_zip(&entries)
}

/// A ZIP archive of stored entries (PKWARE APPNOTE): local headers with
/// their data, the central directory, the end record.
fn stored_zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in entries {
        let offset = out.len() as u32;
        // version 2.0, no flags, stored, time 0, date 1980-01-01, CRC-32,
        // sizes, name length, no extra field.
        let mut common = Vec::new();
        common.extend([20u16, 0, 0, 0, 33].iter().flat_map(|v| v.to_le_bytes()));
        common.extend(crc32(data).to_le_bytes());
        common.extend((data.len() as u32).to_le_bytes());
        common.extend((data.len() as u32).to_le_bytes());
        common.extend((name.len() as u16).to_le_bytes());
        common.extend(0u16.to_le_bytes());
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend(&common);
        out.extend(name.as_bytes());
        out.extend(data);
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes()); // version made by
        central.extend(&common);
        // comment length, disk, internal and external attributes.
        central.extend([0u8; 10]);
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let (cd_offset, cd_size, n) = (out.len() as u32, central.len() as u32, entries.len() as u16);
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u16, 0, n, n].iter().flat_map(|v| v.to_le_bytes()));
    out.extend(cd_size.to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// CRC-32 (reflected polynomial 0xEDB88320), as ZIP stores it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}
