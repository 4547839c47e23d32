//! The crate's layers import one way only: the server uses the services,
//! the services use faults, state and the store, faults use state, state
//! uses the store, and the store uses none of them. Beside them, `delay` and
//! `unimplemented` may be used by any layer and use none. This test reads
//! every source file and fails on a `crate::` path against that order,
//! naming the file, the line and the path.

use std::path::{Path, PathBuf};

/// The layers, lowest first: a module may use those before its own (and in
/// the top layer, the others of its own).
const LAYERS: &[&[&str]] = &[
    &["store"],
    &["state"],
    &["faults"],
    &["service"],
    &["server", "admin", "floor", "lib"],
];

/// Modules any layer may use, which themselves use no module of the crate.
const BESIDE: &[&str] = &["delay", "unimplemented"];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The top-level module a source file belongs to (`store` for
/// `src/store/list.rs`, `faults` for `src/faults.rs`).
fn module_of(relative: &Path) -> String {
    let first = relative.components().next().expect("a path under src");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_owned()
}

/// Every `crate::<module>` a source text names, with its line number.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        for (at, _) in code.match_indices("crate::") {
            // Not part of a longer name (`cache_double::`, `my_crate::`).
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let module: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !module.is_empty() {
                found.push((number + 1, module));
            }
        }
    }
    found
}

/// The imports of `files` (path under `src/`, text) against the layer
/// order, one line each.
fn violations(files: &[(PathBuf, String)]) -> Vec<String> {
    let mut wrong = Vec::new();
    for (path, text) in files {
        let module = module_of(path);
        for (line, used) in crate_paths(text) {
            if used == module {
                continue;
            }
            let allowed = if BESIDE.contains(&module.as_str()) {
                false
            } else if BESIDE.contains(&used.as_str()) {
                true
            } else {
                match (layer_of(&module), layer_of(&used)) {
                    // The top layer's modules (server, admin) use each other.
                    (Some(mine), Some(theirs)) => {
                        theirs < mine || (theirs == mine && mine == LAYERS.len() - 1)
                    }
                    _ => false,
                }
            };
            if !allowed {
                wrong.push(format!(
                    "src/{}:{line}: `{module}` may not use `crate::{used}`",
                    path.display()
                ));
            }
        }
    }
    wrong
}

fn sources(dir: &Path, root: &Path, files: &mut Vec<(PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, root, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).expect("under src").to_owned();
            files.push((relative, std::fs::read_to_string(&path).expect("readable")));
        }
    }
}

#[test]
fn every_import_follows_the_layer_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    // The binary uses the library by its name, not `crate::`.
    files.retain(|(path, _)| path != Path::new("main.rs"));
    let modules: Vec<String> = files.iter().map(|(p, _)| module_of(p)).collect();
    for module in &modules {
        assert!(
            layer_of(module).is_some() || BESIDE.contains(&module.as_str()),
            "src/{module}: a module in no layer (add it to LAYERS or BESIDE)"
        );
    }
    let wrong = violations(&files);
    assert!(
        wrong.is_empty(),
        "imports against the layer order:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_check_catches_an_import_upwards_and_out_of_a_helper() {
    let file = |path: &str, text: &str| (PathBuf::from(path), text.to_owned());
    let wrong = violations(&[
        file(
            "store/list.rs",
            "use crate::service::common::Reply;\nuse super::Cache;",
        ),
        file(
            "state/mod.rs",
            "use crate::store::topics::Topics; // crate::faults in a comment",
        ),
        file("faults.rs", "let x = crate::state::rpc::Rpc::Get;"),
        file("delay.rs", "use crate::state::Shared;"),
        file(
            "service/list.rs",
            "use crate::delay::sleep; use cache_double::server::x;",
        ),
    ]);
    assert_eq!(
        wrong,
        [
            "src/store/list.rs:1: `store` may not use `crate::service`",
            "src/delay.rs:1: `delay` may not use `crate::state`",
        ]
    );
}
