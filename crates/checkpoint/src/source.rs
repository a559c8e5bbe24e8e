//! What every checkpoint format provides: its named tensors
//! ([`TensorSource`]), the error for a tensor it lacks, and the natural
//! order of tensor names. The format readers (`safetensors_file`,
//! `torch_file`) implement the trait; `weights` assembles networks from
//! any of them.

use std::cmp::Ordering;

use crate::error::CheckpointError;

/// The named tensors of one checkpoint, whatever its format.
pub(crate) trait TensorSource {
    /// The names of the tensors, in any order.
    fn names(&self) -> Vec<String>;
    /// The shape and the values (f64, C order) of tensor `name`; an error
    /// names the file and the tensor.
    fn values(&self, name: &str) -> Result<(Vec<usize>, Vec<f64>), CheckpointError>;
}

/// A tensor that is not in the file, with the first few names it has.
pub(crate) fn missing<S: AsRef<str>>(file: &str, tensor: &str, names: &[S]) -> CheckpointError {
    let mut sorted: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
    sorted.sort_by(|a, b| natural_cmp(a, b));
    const SHOWN: usize = 8;
    let mut available = sorted
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if sorted.len() > SHOWN {
        available.push_str(&format!(", … ({} in all)", sorted.len()));
    }
    if sorted.is_empty() {
        available = "no tensors".into();
    }
    CheckpointError::MissingTensor {
        file: file.to_owned(),
        tensor: tensor.to_owned(),
        available,
    }
}

/// Compare names with digit runs as numbers: `l2 < l10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) if p.is_ascii_digit() && q.is_ascii_digit() => {
                let run = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
                let (i, j) = (run(x), run(y));
                // Compare numerically: strip leading zeros, then length, then digits.
                let strip = |s: &[u8]| {
                    let z = s.iter().take_while(|&&c| c == b'0').count();
                    s[z..].to_vec()
                };
                let (u, v) = (strip(&x[..i]), strip(&y[..j]));
                let ord = u.len().cmp(&v.len()).then_with(|| u.cmp(&v));
                if ord != Ordering::Equal {
                    return ord;
                }
                x = &x[i..];
                y = &y[j..];
            }
            (Some(p), Some(q)) => {
                if p != q {
                    return p.cmp(q);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_compares_digit_runs_as_numbers() {
        let mut v = vec!["l10.weight", "l2.weight", "l1.weight", "l02.x"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["l1.weight", "l2.weight", "l02.x", "l10.weight"]);
    }
}
