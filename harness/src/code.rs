//! A function's code as Lambda takes it: a zip. Locally it is packaged from
//! the host build (`harness package`: what `terraform/local` deploys),
//! compared with what the emulator holds by CodeSha256 (moto gives no way to
//! download a zip uploaded directly), and extracted once per content into
//! `.local/functions/<sha>/`, the environments' LAMBDA_TASK_ROOT.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Why the code cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is not a zip Lambda can take: {source}")]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> CodeError + '_ {
    move |source| CodeError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Lambda's CodeSha256 of a zip: the base64 of its SHA-256.
///
/// # Errors
/// If the file cannot be read.
pub fn code_sha256(zip: &Path) -> Result<String, CodeError> {
    let mut file = File::open(zip).map_err(io_error(zip))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    loop {
        let n = file.read(&mut buffer).map_err(io_error(zip))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(hasher.finalize()))
}

/// Writes `binary` into a zip at `out` as a custom runtime's `bootstrap`
/// (mode 0755, a fixed timestamp: the same binary gives the same zip, so
/// Terraform sees no change).
///
/// # Errors
/// If the binary cannot be read or the zip written.
pub fn package(binary: &Path, out: &Path) -> Result<(), CodeError> {
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    let partial = out.with_extension("zip.partial");
    let zip_error = |source| CodeError::Zip {
        path: partial.clone(),
        source,
    };
    let mut writer = zip::ZipWriter::new(File::create(&partial).map_err(io_error(&partial))?);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755)
        .last_modified_time(zip::DateTime::default());
    writer.start_file("bootstrap", options).map_err(zip_error)?;
    io::copy(
        &mut File::open(binary).map_err(io_error(binary))?,
        &mut writer,
    )
    .map_err(io_error(&partial))?;
    writer.finish().map_err(zip_error)?;
    std::fs::rename(&partial, out).map_err(io_error(out))
}

/// A function's code, extracted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// LAMBDA_TASK_ROOT: the zip's contents, modes kept.
    pub dir: PathBuf,
    /// CodeSha256 of the local zip; `None` for a folder given as it is.
    pub sha256: Option<String>,
}

/// The code at `path`: a zip, extracted under `root` as [`extract`] does,
/// or a folder, used as it is (its contents are the task root; nothing to
/// compare with the deployed CodeSha256).
///
/// # Errors
/// As [`extract`]; a path that does not exist.
pub fn local(path: &Path, root: &Path) -> Result<Code, CodeError> {
    if path.is_dir() {
        let dir = path.canonicalize().map_err(io_error(path))?;
        return Ok(Code { dir, sha256: None });
    }
    extract(path, root)
}

/// Extracts `zip` under `root` (`<root>/<sha>/`), once per content: a
/// second call with the same zip reuses the folder.
///
/// # Errors
/// If the zip cannot be read or extracted.
pub fn extract(zip: &Path, root: &Path) -> Result<Code, CodeError> {
    let sha256 = code_sha256(zip)?;
    // base64 has '/' and '+': the folder is named by its hex.
    let hex: String = base64::engine::general_purpose::STANDARD
        .decode(&sha256)
        .expect("our own base64")
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = root.join(hex);
    if dir.is_dir() {
        return Ok(Code {
            dir,
            sha256: Some(sha256),
        });
    }
    let partial = root.join(format!(".partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).map_err(io_error(&partial))?;
    let zip_error = |source| CodeError::Zip {
        path: zip.to_owned(),
        source,
    };
    let mut archive =
        zip::ZipArchive::new(File::open(zip).map_err(io_error(zip))?).map_err(zip_error)?;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(zip_error)?;
        // A name that would leave the folder is skipped, as unzip does.
        let Some(name) = entry.enclosed_name() else {
            continue;
        };
        let path = partial.join(name);
        if entry.is_dir() {
            std::fs::create_dir_all(&path).map_err(io_error(&path))?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        let mut file = File::create(&path).map_err(io_error(&path))?;
        io::copy(&mut entry, &mut file).map_err(io_error(&path))?;
        if let Some(mode) = entry.unix_mode() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o7777))
                .map_err(io_error(&path))?;
        }
    }
    match std::fs::rename(&partial, &dir) {
        Ok(()) => {}
        // Another run extracted the same content first.
        Err(_) if dir.is_dir() => {
            let _ = std::fs::remove_dir_all(&partial);
        }
        Err(source) => return Err(io_error(&dir)(source)),
    }
    Ok(Code {
        dir,
        sha256: Some(sha256),
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_packaged_binary_extracts_executable_with_a_stable_sha() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("built");
        std::fs::write(&binary, b"#!/bin/sh\necho hello\n").unwrap();
        let zip = dir.path().join("out/bootstrap.zip");
        package(&binary, &zip).unwrap();
        let first = code_sha256(&zip).unwrap();
        package(&binary, &zip).unwrap();
        assert_eq!(code_sha256(&zip).unwrap(), first, "same binary, same zip");

        let code = extract(&zip, &dir.path().join("functions")).unwrap();
        assert_eq!(code.sha256.as_ref(), Some(&first));
        let bootstrap = code.dir.join("bootstrap");
        assert_eq!(
            std::fs::read(&bootstrap).unwrap(),
            b"#!/bin/sh\necho hello\n"
        );
        let mode = std::fs::metadata(&bootstrap).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
        assert_eq!(
            extract(&zip, &dir.path().join("functions")).unwrap(),
            code,
            "extracted once per content"
        );
    }

    #[test]
    fn a_folder_is_the_task_root_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let code = local(dir.path(), &dir.path().join("functions")).unwrap();
        assert_eq!(code.dir, dir.path().canonicalize().unwrap());
        assert_eq!(code.sha256, None, "nothing to compare");
        assert!(!dir.path().join("functions").exists(), "nothing extracted");
    }

    #[test]
    fn a_file_that_is_not_a_zip_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not.zip");
        std::fs::write(&path, b"plain text").unwrap();
        let error = extract(&path, dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("not.zip") && error.contains("not a zip"),
            "{error}"
        );
    }
}
