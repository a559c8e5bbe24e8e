//! The repository carries its own specification: every "SPEC §N" (and
//! "SPEC §N.M") cited in the code, the fixtures and the documents is a
//! heading of `docs/SPEC.md`, and every study's fixture seeds lie below
//! the seed-block stride, so `--seed N` blocks are disjoint from them.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The text files under `dir` with one of the extensions, recursively,
/// skipping build output and hidden folders.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        if path.is_dir() {
            files(&path, out);
        } else if ["rs", "toml", "md", "py"]
            .iter()
            .any(|e| path.extension().is_some_and(|x| x == *e))
        {
            out.push(path);
        }
    }
}

#[test]
fn every_spec_citation_resolves_in_docs_spec() {
    let spec = std::fs::read_to_string(root().join("docs/SPEC.md")).unwrap();
    let headings: Vec<String> = spec
        .lines()
        .filter(|l| l.starts_with('#'))
        .filter_map(|l| l.trim_start_matches('#').split_whitespace().next())
        .map(|n| n.trim_end_matches('.').to_owned())
        .collect();
    let mut paths = Vec::new();
    for dir in ["crates", "fixtures", "xtask", "benches", "scripts"] {
        files(&root().join(dir), &mut paths);
    }
    paths.push(root().join("README.md"));
    paths.push(root().join("ARCHITECTURE.md"));
    let mut cited = 0;
    let mut missing = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (k, _) in text.match_indices("SPEC §") {
            let section: String = text[k + "SPEC §".len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let section = section.trim_end_matches('.');
            if section.is_empty() {
                // "SPEC §N" as a pattern in prose.
                continue;
            }
            cited += 1;
            if !headings.iter().any(|h| h == section) {
                missing.push(format!("{}: SPEC §{section}", path.display()));
            }
        }
    }
    assert!(cited > 100, "only {cited} citations found");
    assert!(missing.is_empty(), "{missing:#?}");
}

#[test]
fn fixture_seeds_lie_below_the_seed_block_stride() {
    let mut paths = Vec::new();
    files(&root().join("fixtures/claims"), &mut paths);
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let value: toml::Value = toml::from_str(&text).unwrap();
        let mut stack = vec![(String::new(), value)];
        while let Some((key, v)) = stack.pop() {
            match v {
                toml::Value::Table(t) => {
                    stack.extend(t.into_iter().map(|(k, v)| (format!("{key}.{k}"), v)));
                }
                toml::Value::Array(a) if key.contains("seeds") => {
                    for s in a {
                        let s = s.as_integer().unwrap();
                        assert!(
                            (1..claims::SEED_BLOCK as i64).contains(&s),
                            "{}: {key} has seed {s}",
                            path.display()
                        );
                    }
                }
                _ => {}
            }
        }
    }
}
