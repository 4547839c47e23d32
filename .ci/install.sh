# Installs what a fresh machine lacks, sourced by the other .ci scripts.
# Each install runs under the same inter-process lock the Rust code takes
# (emulators/src/install.rs), so scripts and test binaries running at once
# install a thing once and the others wait for it:
#   .local/venv.lock              the project's venv (pip)
#   <rustup home>/target-add.lock a Rust target (one toolchain per machine)

# venv_tool PACKAGE PROGRAM: .local/venv/bin/PROGRAM, pip-installing PACKAGE if missing.
venv_tool() {
  local package=$1 program=$2 venv="$PWD/.local/venv"
  [ -x "$venv/bin/$program" ] && return 0
  mkdir -p "$PWD/.local"
  (
    flock 9
    if [ ! -x "$venv/bin/$program" ]; then
      echo "installing $package into $venv" >&2
      [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$package"
    fi
  ) 9>"$PWD/.local/venv.lock"
}

# rust_target TARGET: adds TARGET to the active toolchain if missing.
rust_target() {
  local target=$1
  rustup target list --installed | grep -qx "$target" && return 0
  (
    flock 9
    rustup target list --installed | grep -qx "$target" || rustup target add "$target"
  ) 9>"$(rustup show home)/target-add.lock"
}
