# Developer workflows. Every recipe is a plain command you can also run
# without `just`. `just --list` shows them.

# cargo-lambda and moto live in the git-ignored .local/venv when not on PATH
export PATH := justfile_directory() + "/.local/venv/bin:" + env_var("PATH")

default:
    @just --list

# the consumer's zip for Lambda (arm64, release): target/lambda/bootstrap/bootstrap.zip
build:
    bash .ci/build-lambda.sh --arm64

# the same for x86_64
build-x86:
    bash .ci/build-lambda.sh --x86-64

# unit tests and the in-process double's suites (Rust only)
test:
    cargo test --workspace

# everything, including tests that start moto server (the project's test command)
test-integration:
    cargo test --features integration

# every benchmark; the consumer's also prints the zip size if `just build` ran
bench:
    cargo bench -p cache-double --bench protocol
    cargo bench -p producer --bench strategies
    cargo bench -p consumer --bench consumer

# the consumer's side-by-side benchmark (tiered vs the article's strategy)
bench-consumer:
    cargo bench -p consumer --bench consumer

# the size of the built zip (target ≤ 8 MB)
zip-size:
    @ls -l target/lambda/bootstrap/bootstrap.zip | awk '{ printf "bootstrap.zip: %.2f MB (%d bytes)\n", $5 / 1e6, $5 }'

fmt:
    cargo fmt --all

lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings
    cargo clippy --all-targets --features integration -- -D warnings
    bash .ci/terraform-check.sh
