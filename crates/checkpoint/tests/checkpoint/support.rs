//! Shared helpers of the checkpoint tests: the committed fixtures, scratch
//! directories, error checks, and PyTorch `.pt` files built byte by byte
//! from the format (independent of the crates that read them): a ZIP
//! archive of stored entries whose pickle is assembled from opcodes.

use std::path::{Path, PathBuf};

use checkpoint::CheckpointError;

/// A file of `fixtures/checkpoints/torch/`.
pub fn torch_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/checkpoints/torch")
        .join(name)
}

/// A fresh directory for one test, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("checkpoint-tests-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Write `bytes` to the file `name` of the directory.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `err`'s message is one line, names `file` and contains every needle.
pub fn assert_one_line(err: &CheckpointError, file: &Path, needles: &[&str]) {
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "not one line: {msg:?}");
    let file = file.display().to_string();
    assert!(msg.contains(&file), "`{file}` missing from: {msg}");
    for n in needles {
        assert!(msg.contains(n), "`{n}` missing from: {msg}");
    }
}

// ---------------------------------------------------------------------------
// ZIP (PKWARE APPNOTE 6.3, stored entries only)
// ---------------------------------------------------------------------------

/// CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320), as ZIP stores it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A ZIP archive of uncompressed (stored) entries: per entry a local file
/// header, its name and its bytes; then the central directory (one header
/// per entry) and the end-of-central-directory record. Dates are
/// 1980-01-01 00:00, as `torch.save` writes them.
pub fn zip_stored(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    const DOS_DATE: u16 = (1 << 5) | 1; // 1980-01-01
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let (crc, size, name_len) = (crc32(data), data.len() as u32, name.len() as u16);
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend(20u16.to_le_bytes()); // version needed: 2.0
        out.extend(0u16.to_le_bytes()); // flags
        out.extend(0u16.to_le_bytes()); // method: stored
        out.extend(0u16.to_le_bytes()); // time
        out.extend(DOS_DATE.to_le_bytes());
        out.extend(crc.to_le_bytes());
        out.extend(size.to_le_bytes()); // compressed
        out.extend(size.to_le_bytes()); // uncompressed
        out.extend(name_len.to_le_bytes());
        out.extend(0u16.to_le_bytes()); // extra field length
        out.extend(name.as_bytes());
        out.extend(data);

        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes()); // version made by
        central.extend(20u16.to_le_bytes()); // version needed
        central.extend(0u16.to_le_bytes()); // flags
        central.extend(0u16.to_le_bytes()); // method
        central.extend(0u16.to_le_bytes()); // time
        central.extend(DOS_DATE.to_le_bytes());
        central.extend(crc.to_le_bytes());
        central.extend(size.to_le_bytes());
        central.extend(size.to_le_bytes());
        central.extend(name_len.to_le_bytes());
        central.extend(0u16.to_le_bytes()); // extra
        central.extend(0u16.to_le_bytes()); // comment
        central.extend(0u16.to_le_bytes()); // disk number
        central.extend(0u16.to_le_bytes()); // internal attributes
        central.extend(0u32.to_le_bytes()); // external attributes
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let (cd_offset, cd_size, n) = (out.len() as u32, central.len() as u32, entries.len() as u16);
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend(0u16.to_le_bytes()); // this disk
    out.extend(0u16.to_le_bytes()); // disk of the central directory
    out.extend(n.to_le_bytes());
    out.extend(n.to_le_bytes());
    out.extend(cd_size.to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes()); // comment length
    out
}

/// The storages of an archive: key (`archive/data/<key>`) and bytes.
pub type Storages = Vec<(String, Vec<u8>)>;

/// A `torch.save` archive (PyTorch ≥ 1.6): `archive/data.pkl`,
/// `archive/data/<key>` per storage, `archive/version` and
/// `archive/byteorder`.
pub fn torch_zip(pickle: &[u8], storages: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut entries = vec![("archive/data.pkl".to_owned(), pickle.to_vec())];
    entries.push(("archive/byteorder".to_owned(), b"little".to_vec()));
    for (key, bytes) in storages {
        entries.push((format!("archive/data/{key}"), bytes.clone()));
    }
    entries.push(("archive/version".to_owned(), b"3\n".to_vec()));
    zip_stored(&entries)
}

// ---------------------------------------------------------------------------
// Pickle (protocol 2 opcodes, as `torch.save` writes them)
// ---------------------------------------------------------------------------

pub const MARK: u8 = b'(';
pub const STOP: u8 = b'.';
pub const TUPLE: u8 = b't';
pub const EMPTY_TUPLE: u8 = b')';
pub const EMPTY_DICT: u8 = b'}';
pub const REDUCE: u8 = b'R';
pub const BUILD: u8 = b'b';
pub const SETITEM: u8 = b's';
pub const SETITEMS: u8 = b'u';
pub const BINPERSID: u8 = b'Q';
pub const NEWFALSE: u8 = 0x89;

/// A pickle under construction; starts with `PROTO 2`.
pub struct Pickle(Vec<u8>);

impl Pickle {
    pub fn new() -> Self {
        Pickle(vec![0x80, 2])
    }

    pub fn op(&mut self, op: u8) -> &mut Self {
        self.0.push(op);
        self
    }

    /// `GLOBAL 'module name'`.
    pub fn global(&mut self, module: &str, name: &str) -> &mut Self {
        self.0.push(b'c');
        self.0.extend(format!("{module}\n{name}\n").as_bytes());
        self
    }

    /// `BINUNICODE`: u32 LE length, UTF-8 bytes.
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.0.push(b'X');
        self.0.extend((s.len() as u32).to_le_bytes());
        self.0.extend(s.as_bytes());
        self
    }

    /// `BININT1` (u8), `BININT2` (u16 LE) or `BININT` (i32 LE).
    pub fn int(&mut self, i: i64) -> &mut Self {
        if (0..256).contains(&i) {
            self.0.extend([b'K', i as u8]);
        } else if (0..65536).contains(&i) {
            self.0.push(b'M');
            self.0.extend((i as u16).to_le_bytes());
        } else {
            self.0.push(b'J');
            self.0.extend(i32::try_from(i).unwrap().to_le_bytes());
        }
        self
    }

    /// `MARK ints… TUPLE`.
    pub fn int_tuple(&mut self, v: &[usize]) -> &mut Self {
        self.op(MARK);
        for &i in v {
            self.int(i as i64);
        }
        self.op(TUPLE)
    }

    /// `collections.OrderedDict()`: `GLOBAL`, `EMPTY_TUPLE`, `REDUCE`.
    pub fn ordered_dict(&mut self) -> &mut Self {
        self.global("collections", "OrderedDict")
            .op(EMPTY_TUPLE)
            .op(REDUCE)
    }

    /// The persistent id of a storage, `('storage', torch.<class>, key,
    /// 'cpu', numel)`, loaded by `BINPERSID`.
    pub fn storage(&mut self, class: &str, key: &str, numel: usize) -> &mut Self {
        self.op(MARK)
            .str("storage")
            .global("torch", class)
            .str(key)
            .str("cpu")
            .int(numel as i64)
            .op(TUPLE)
            .op(BINPERSID)
    }

    /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
    /// False, OrderedDict())`.
    pub fn tensor(&mut self, t: &TensorRef) -> &mut Self {
        self.global("torch._utils", "_rebuild_tensor_v2")
            .op(MARK)
            .storage(t.class, &t.key, t.numel)
            .int(t.offset as i64)
            .int_tuple(&t.shape)
            .int_tuple(&t.stride)
            .op(NEWFALSE)
            .ordered_dict()
            .op(TUPLE)
            .op(REDUCE)
    }

    /// `MARK (key, tensor)… SETITEMS` into the dict on the stack.
    pub fn tensor_items(&mut self, items: &[(&str, TensorRef)]) -> &mut Self {
        self.op(MARK);
        for (name, t) in items {
            self.str(name).tensor(t);
        }
        self.op(SETITEMS)
    }

    /// The bytes, ended by `STOP`.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = self.0.clone();
        out.push(STOP);
        out
    }
}

/// A tensor as the pickle describes it: a view of storage `key` (of `numel`
/// elements of `class`).
pub struct TensorRef {
    pub class: &'static str,
    pub key: String,
    pub numel: usize,
    pub offset: usize,
    pub shape: Vec<usize>,
    pub stride: Vec<usize>,
}

/// A contiguous tensor with its own storage: name, storage class, shape and
/// little-endian bytes.
pub struct Raw {
    pub name: String,
    pub class: &'static str,
    pub shape: Vec<usize>,
    pub bytes: Vec<u8>,
}

/// Bytes per element of a storage class.
pub fn element_size(class: &str) -> usize {
    match class {
        "DoubleStorage" | "LongStorage" => 8,
        "FloatStorage" | "IntStorage" => 4,
        "HalfStorage" | "BFloat16Storage" => 2,
        other => panic!("no size for {other}"),
    }
}

impl Raw {
    pub fn f32(name: &str, shape: &[usize], values: &[f64]) -> Self {
        Raw::new(
            name,
            "FloatStorage",
            shape,
            values
                .iter()
                .flat_map(|&v| (v as f32).to_le_bytes())
                .collect(),
        )
    }

    pub fn f64(name: &str, shape: &[usize], values: &[f64]) -> Self {
        Raw::new(
            name,
            "DoubleStorage",
            shape,
            values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        )
    }

    pub fn i64(name: &str, shape: &[usize], values: &[i64]) -> Self {
        Raw::new(
            name,
            "LongStorage",
            shape,
            values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        )
    }

    pub fn new(name: &str, class: &'static str, shape: &[usize], bytes: Vec<u8>) -> Self {
        let numel: usize = shape.iter().product();
        assert_eq!(bytes.len(), numel * element_size(class), "{name}");
        Raw {
            name: name.into(),
            class,
            shape: shape.to_vec(),
            bytes,
        }
    }

    /// The contiguous (C-order) view of storage `key`.
    pub fn view(&self, key: &str) -> TensorRef {
        let mut stride = vec![1; self.shape.len()];
        for i in (0..self.shape.len().saturating_sub(1)).rev() {
            stride[i] = stride[i + 1] * self.shape[i + 1];
        }
        TensorRef {
            class: self.class,
            key: key.into(),
            numel: self.bytes.len() / element_size(self.class),
            offset: 0,
            shape: self.shape.clone(),
            stride,
        }
    }
}

/// The items (name, view of storage `i`) and storages (`i`, bytes) of
/// tensors stored one storage each, keys counted from `first`.
pub fn items_and_storages(tensors: &[Raw], first: usize) -> (Vec<(&str, TensorRef)>, Storages) {
    let items = tensors
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), t.view(&(first + i).to_string())))
        .collect();
    let storages = tensors
        .iter()
        .enumerate()
        .map(|(i, t)| ((first + i).to_string(), t.bytes.clone()))
        .collect();
    (items, storages)
}

/// `torch.save(state_dict)`: an `OrderedDict` of the tensors, one storage
/// each.
pub fn state_dict_pickle(tensors: &[Raw]) -> (Vec<u8>, Storages) {
    let (items, storages) = items_and_storages(tensors, 0);
    let pickle = Pickle::new().ordered_dict().tensor_items(&items).finish();
    (pickle, storages)
}

/// The bytes of `torch.save(state_dict)` for `tensors`.
pub fn state_dict_file(tensors: &[Raw]) -> Vec<u8> {
    let (pickle, storages) = state_dict_pickle(tensors);
    torch_zip(&pickle, &storages)
}
