# Developer workflows. Every recipe is a plain command you can also run
# without `just`. `just --list` shows them.

# cargo-lambda and moto live in the git-ignored .local/venv when not on PATH
export PATH := justfile_directory() + "/.local/venv/bin:" + env_var("PATH")

# The local tools (harness, producer) come from one build in the dev profile:
# every recipe asks for the same packages, so cargo builds once and later
# recipes start at once. The Lambda zip has its own profile (`just build`).
target_dir := env_var_or_default("CARGO_TARGET_DIR", justfile_directory() + "/target")
harness := target_dir + "/debug/harness"
producer := target_dir + "/debug/producer"

default:
    @just --list

# the consumer's zip for Lambda (arm64, release with what cargo-lambda adds: LTO, strip, panic=abort): target/lambda/bootstrap/bootstrap.zip
build:
    bash .ci/build-lambda.sh --arm64

# the same for x86_64
build-x86:
    bash .ci/build-lambda.sh --x86-64

# --- local pipeline (all on 127.0.0.1; state, logs and checkpoints in .local/) ---

# build the harness, the producer and the consumer (dev profile); the recipes below run them (TOOLS_BUILT=1: they are built already, e.g. by `cargo test`)
tools:
    @[ -n "${TOOLS_BUILT:-}" ] || cargo build -q -p harness -p producer -p consumer --bins

# start moto server and the cache double in the background (backend=docker: docker compose)
local-up backend="native": tools
    {{harness}} up --backend {{backend}}

# stop what local-up started
local-down: tools
    {{harness}} down

status: tools
    {{harness}} status

# create the stream, table, SecureString, queue and cache on the emulators
provision: tools
    {{harness}} provision

# the consumer under cargo lambda watch (Invoke API on 127.0.0.1:9000)
watch: tools
    {{harness}} watch

# write records to the local stream, on whichever emulator `local-up` started (one task: moto's shards lose records under concurrent writes); e.g. `just produce 5000 --aggregate`
produce n="1000" *args: tools
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
    {{producer}} --endpoint-url "$({{harness}} status --aws-endpoint)" --stream model-one-stream -n {{n}} -c 1 {{args}}

# the local event-source mapping into the consumer (e.g. `just replay --follow`, `just replay --target invoke`)
replay *args: tools
    {{harness}} replay {{args}}

# the event-source mappings terraform/local applied (`just deploy-local`), with their settings, into the function their alias points at (e.g. `just run --follow`, `just run --print-settings`)
run *args: tools
    {{harness}} run {{args}}

# deliver again what the mapping gave up on (its on-failure queue); `just redrive --deployed` on AWS
redrive *args: tools
    {{harness}} redrive {{args}}

# create the Momento cache (the local double; `just momento-cache --deployed` uses MOMENTO_API_KEY)
momento-cache *args: tools
    {{harness}} momento-cache {{args}}

# up → provision → produce 1,000 → replay → summary
demo *args: tools
    {{harness}} demo {{args}}

# --- Terraform ---

# the production root's backend settings must exist (cp terraform/backend.hcl.example terraform/backend.hcl)
_backend:
    @test -f terraform/backend.hcl || { echo "terraform/backend.hcl is missing: copy terraform/backend.hcl.example and fill in the state's bucket, key and region" >&2; exit 1; }

# build the arm64 zip, then plan the production stack (needs AWS credentials and terraform/backend.hcl)
plan: build _backend
    terraform -chdir=terraform init -backend-config=backend.hcl
    terraform -chdir=terraform plan

# build the arm64 zip, then apply the production stack
deploy: build _backend
    terraform -chdir=terraform init -backend-config=backend.hcl
    terraform -chdir=terraform apply

# apply the same stack to the local emulator `local-up` started (moto, or LocalStack with `local-up docker`), without asking (it is the emulator): the consumer zipped for this machine (`harness package`), its key the one the cache double accepts; `just run` runs what it applied
deploy-local: tools
    {{harness}} package --binary {{target_dir}}/debug/bootstrap
    {{harness}} momento-cache
    terraform -chdir=terraform/local init
    TF_VAR_momento_api_key="$({{harness}} status --momento-api-key)" \
    terraform -chdir=terraform/local apply -auto-approve -var endpoint="$({{harness}} status --aws-endpoint)" \
      -var lambda_architecture="$(uname -m | sed 's/aarch64/arm64/')"

# --- checks ---

# unit tests and the in-process double's suites (Rust only)
test:
    cargo test --workspace

# everything, including tests that start moto server (the project's test command)
test-integration:
    cargo test --features integration

# every benchmark; the consumer's also prints the zip size if `just build` ran
bench:
    cargo bench -p cache-double --bench protocol
    cargo bench -p cache-double --bench collections
    cargo bench -p producer --bench strategies
    cargo bench -p consumer --bench consumer
    cargo bench -p harness --bench pipeline
    cargo bench -p harness --bench cold_start

# run the consumer, pipeline and cold-start benchmarks, then write docs/bench-report.html from their saved results
bench-report: bench-consumer bench-pipeline bench-cold-start bench-report-saved

# write docs/bench-report.html from the results the benchmarks saved (target/bench-results/)
bench-report-saved:
    cargo run -q -p bench-report -- --out docs/bench-report.html

# init duration, first and warm batches and peak RSS of the built bootstrap under the Lambda Runtime API
bench-cold-start:
    cargo bench -p harness --bench cold_start

# end to end through moto: latency at 1,000 records/s, and the 65,000-record run
bench-pipeline:
    cargo bench -p harness --bench pipeline

# the consumer's side-by-side benchmark (tiered vs the article's strategy)
bench-consumer:
    cargo bench -p consumer --bench consumer

# the size of the built zip (target ≤ 8 MB)
zip-size:
    @ls -l target/lambda/bootstrap/bootstrap.zip | awk '{ printf "bootstrap.zip: %.2f MB (%d bytes)\n", $5 / 1e6, $5 }'

# fuzz the record decoder and the consumer's batch input path, `secs` seconds each
fuzz secs="60":
    bash .ci/fuzz.sh {{secs}}

fmt:
    cargo fmt --all

lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings
    cargo clippy --all-targets --features integration -- -D warnings
    bash .ci/terraform-check.sh
