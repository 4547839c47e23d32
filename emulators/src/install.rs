//! Tools a fresh machine lacks, installed when first needed: moto server and
//! cargo-lambda into the project's `.local/venv` with pip, a Rust target with
//! rustup. Each install runs at most once however many processes ask at the
//! same moment (test binaries run in parallel, `.ci/run` scripts beside
//! them): it happens under an inter-process file lock kept where the
//! installed thing lives, and every caller checks again once it holds the
//! lock, so a second caller waits for the first and reuses what it installed.
//!
//! - the venv's lock is `.local/venv.lock`: one per checkout, as the venv is;
//! - a Rust target's lock is `target-add.lock` in rustup's home: one per
//!   machine (every checkout shares the toolchain), where two concurrent
//!   `rustup target add` calls fail one of them on rustup's download rename.
//!
//! The shell scripts in `.ci/` take the same locks with `flock(1)`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Why a tool could not be installed, with the installer's own output.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("could not install {what}: `{command}` failed ({status})\n{output}")]
    Failed {
        what: String,
        command: String,
        status: String,
        /// The command's stdout and stderr (their last lines).
        output: String,
    },
    #[error("could not install {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// Whether this caller found the tool or installed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// It was there already (possibly installed by a caller this one waited for).
    Found,
    /// This caller installed it.
    Installed,
}

/// `program` of the pip `package` in the venv at `venv`, installed now
/// (creating the venv if needed) when it is missing. `program` is the file
/// in the venv's `bin/` the package provides; its presence means installed.
///
/// # Errors
/// [`InstallError`] with pip's (or venv's) output if the install fails.
pub fn python_tool(
    venv: &Path,
    package: &str,
    program: &str,
) -> Result<(PathBuf, Provenance), InstallError> {
    let path = venv.join("bin").join(program);
    let provenance = pip_install_unless(
        venv,
        &[package],
        || path.is_file(),
        &format!("{program} not found"),
        &format!("{} is still missing", path.display()),
    )?;
    Ok((path, provenance))
}

/// The Python of a venv at `venv` that can `import module`, installing the
/// pip `packages` first (creating the venv if needed) when it cannot: for
/// libraries a test drives from a script, which have no program to look for.
///
/// # Errors
/// [`InstallError`] with pip's (or venv's) output if the install fails.
pub fn python_library(
    venv: &Path,
    packages: &[&str],
    module: &str,
) -> Result<(PathBuf, Provenance), InstallError> {
    let python = venv.join("bin/python");
    let imports = || {
        python.is_file()
            && Command::new(&python)
                .args(["-c", &format!("import {module}")])
                .output()
                .is_ok_and(|out| out.status.success())
    };
    let provenance = pip_install_unless(
        venv,
        packages,
        imports,
        &format!("Python module {module} not found"),
        &format!("`import {module}` still fails"),
    )?;
    Ok((python, provenance))
}

/// Installs `packages` with pip into the venv at `venv` (creating it if
/// needed) unless `present()`, asked again under the venv's lock so that
/// one process installs while the others wait. `absent` and `still_absent`
/// say what is missing, before and after the install.
fn pip_install_unless(
    venv: &Path,
    packages: &[&str],
    present: impl Fn() -> bool,
    absent: &str,
    still_absent: &str,
) -> Result<Provenance, InstallError> {
    if present() {
        return Ok(Provenance::Found);
    }
    let lock = venv.with_extension("lock");
    let what = format!("{} into {}", packages.join(" "), venv.display());
    locked(&lock, &what, || {
        if present() {
            return Ok(Provenance::Found);
        }
        let started = Instant::now();
        eprintln!("{absent}: installing {what} with pip");
        let python = venv.join("bin/python");
        if !python.is_file() {
            run(
                Command::new("python3").arg("-m").arg("venv").arg(venv),
                &what,
            )?;
        }
        run(
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(packages),
            &what,
        )?;
        if !present() {
            return Err(InstallError::Failed {
                what: what.clone(),
                command: format!("pip install {}", packages.join(" ")),
                status: "succeeded".into(),
                output: format!("but {still_absent}"),
            });
        }
        eprintln!(
            "installed {what} in {:.0} s",
            started.elapsed().as_secs_f64()
        );
        Ok(Provenance::Installed)
    })
}

/// The project's venv, `.local/venv`.
pub fn venv() -> PathBuf {
    crate::local_dir().join("venv")
}

/// The moto this project's tests are run against. Pinned: moto 5.2.6 (the
/// newest on 2026-12-07) enforces SQS's one PurgeQueue a minute, which the
/// e2e poison-storm tests' queue proxy needs to purge more often, and a
/// fresh machine's first run failed on it.
pub const MOTO: &str = "moto[server]==5.2.1";

/// `moto_server`: on `PATH`, else in `.local/venv`, installed there
/// ([`MOTO`]) if missing.
///
/// # Errors
/// As [`python_tool`].
pub fn moto_server() -> Result<PathBuf, InstallError> {
    if let Some(found) = on_path("moto_server") {
        return Ok(found);
    }
    python_tool(&venv(), MOTO, "moto_server").map(|(path, _)| path)
}

/// The directory to put first on `PATH` so that `cargo lambda` runs:
/// `.local/venv/bin`, where cargo-lambda is installed if it is on neither.
///
/// # Errors
/// As [`python_tool`].
pub fn cargo_lambda() -> Result<PathBuf, InstallError> {
    let bin = venv().join("bin");
    if on_path("cargo-lambda").is_none() {
        python_tool(&venv(), "cargo-lambda", "cargo-lambda")?;
    }
    Ok(bin)
}

/// Adds the Rust `target` (e.g. `aarch64-unknown-linux-gnu`) to the active
/// toolchain unless it is there, under a lock in rustup's home. `RUSTUP_HOME`
/// and `CARGO_HOME` are honoured, as rustup honours them.
///
/// # Errors
/// [`InstallError`] with rustup's output.
pub fn rust_target(target: &str) -> Result<Provenance, InstallError> {
    let what = format!("the Rust target {target}");
    if target_installed(target, &what)? {
        return Ok(Provenance::Found);
    }
    let home = rustup_home(&what)?;
    locked(&home.join("target-add.lock"), &what, || {
        if target_installed(target, &what)? {
            return Ok(Provenance::Found);
        }
        eprintln!("installing {what} with rustup");
        run(
            Command::new("rustup").args(["target", "add", target]),
            &what,
        )?;
        Ok(Provenance::Installed)
    })
}

fn target_installed(target: &str, what: &str) -> Result<bool, InstallError> {
    let listed = output(
        Command::new("rustup").args(["target", "list", "--installed"]),
        what,
    )?;
    Ok(listed.lines().any(|line| line.trim() == target))
}

fn rustup_home(what: &str) -> Result<PathBuf, InstallError> {
    let home = output(Command::new("rustup").args(["show", "home"]), what)?;
    Ok(PathBuf::from(home.trim()))
}

/// Runs `f` holding an exclusive lock on the file `lock` (created if
/// missing); other processes and threads asking for it wait. The lock is
/// released when the file closes, also if this process dies.
fn locked<T>(
    lock: &Path,
    what: &str,
    f: impl FnOnce() -> Result<T, InstallError>,
) -> Result<T, InstallError> {
    let io = |source| InstallError::Io {
        what: what.to_owned(),
        source,
    };
    if let Some(dir) = lock.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock)
        .map_err(io)?;
    if file.try_lock().is_err() {
        eprintln!(
            "waiting for another process installing {what} ({})",
            lock.display()
        );
        file.lock().map_err(io)?;
    }
    let result = f();
    drop(file);
    result
}

fn run(command: &mut Command, what: &str) -> Result<(), InstallError> {
    output(command, what).map(drop)
}

/// The command's stdout, or its whole output in the error if it fails.
fn output(command: &mut Command, what: &str) -> Result<String, InstallError> {
    let shown = format!("{command:?}");
    let out = command.output().map_err(|source| InstallError::Io {
        what: format!("{what} (running {shown})"),
        source,
    })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(40)..].join("\n");
    Err(InstallError::Failed {
        what: what.to_owned(),
        command: shown,
        status: out.status.to_string(),
        output: tail,
    })
}

pub(crate) fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
