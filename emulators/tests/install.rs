//! Installs on a machine that lacks the tool, into a scratch venv (never the
//! project's own): callers that ask at the same moment install it once, and a
//! failed install says what the installer said. Needs PyPI.
#![cfg(feature = "integration")]

use std::sync::{Arc, Barrier};

use emulators::install::{python_tool, InstallError, Provenance};

#[test]
fn two_callers_at_once_install_once_and_both_get_the_tool() {
    let scratch = tempfile::tempdir().unwrap();
    let venv = scratch.path().join("venv");
    let start = Arc::new(Barrier::new(2));
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (venv, start) = (venv.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                // `wheel` is small and brings a program of its own name.
                python_tool(&venv, "wheel", "wheel")
            })
        })
        .collect();
    let mut provenances = Vec::new();
    for caller in callers {
        let (program, provenance) = caller.join().unwrap().expect("both callers succeed");
        assert_eq!(program, venv.join("bin/wheel"));
        assert!(program.is_file());
        provenances.push(provenance);
    }
    provenances.sort_by_key(|p| *p == Provenance::Found);
    assert_eq!(
        provenances,
        [Provenance::Installed, Provenance::Found],
        "exactly one caller installs; the other waits for it and finds the tool"
    );
    assert!(
        scratch.path().join("venv.lock").is_file(),
        "the lock sits beside the venv"
    );
}

#[test]
fn a_failed_install_reports_the_installers_output() {
    let scratch = tempfile::tempdir().unwrap();
    let venv = scratch.path().join("venv");
    let error = python_tool(&venv, "no-such-package-kmc-0e5f1c", "nothing").unwrap_err();
    let InstallError::Failed { output, .. } = &error else {
        panic!("expected a failed install, got {error}");
    };
    let text = error.to_string();
    assert!(
        output.contains("no-such-package-kmc-0e5f1c") && text.contains(output.as_str()),
        "pip's own words are in the error: {text}"
    );
}
