# attack-replay: replay MITRE ATT&CK scenarios against a real Falco and assert its alerts.
#
#   make test-rules   the main job: every scenario against a real Falco (needs FALCO_IMAGE)
#   make test-matrix  the same once per Falco image of FALCO_IMAGES, and one matrix report
#   make test         every test that needs no Falco (builds the victim images if missing)
#   make soak         the suite against a stand-in Falco 100 times, one injected fault each

SHELL := /bin/bash
GO    ?= go

# Configuration of `make test-rules` (README: Configuration). Environment wins.
FALCO_IMAGE     ?= falcosecurity/falco:0.43.1
FALCO_TRANSPORT ?= auto
VICTIM_IMAGE    ?= attack-replay/victim:bookworm
VICTIM_TOOLS_IMAGE ?= attack-replay/victim:tools
RULES           ?= rules/
SCENARIOS       ?= scenarios/
TECHNIQUES      ?=
TACTICS         ?=
WORKERS         ?=
REPEAT          ?= 1
REPORT_DIR      ?= reports
GINKGO_FLAGS    ?=
FALCO_IMAGES    ?=
MATRIX_FLAGS    ?=

# The reaper image cannot be pulled everywhere; the harness labels and removes
# everything it starts itself.
export TESTCONTAINERS_RYUK_DISABLED := true
export FALCO_IMAGE FALCO_TRANSPORT VICTIM_IMAGE VICTIM_TOOLS_IMAGE RULES SCENARIOS TECHNIQUES TACTICS WORKERS REPEAT REPORT_DIR

# TECHNIQUES=T1490,T1003.008 and TACTICS=impact become one Ginkgo label filter.
comma := ,
empty :=
space := $(empty) $(empty)
label_or = $(subst $(space), || ,$(strip $(foreach x,$(subst $(comma), ,$(2)),$(1):$(x))))
LABEL_FILTER := $(strip $(if $(TECHNIQUES),($(call label_or,technique,$(TECHNIQUES))))\
  $(if $(and $(TECHNIQUES),$(TACTICS)), && )$(if $(TACTICS),($(call label_or,tactic,$(TACTICS)))))

.PHONY: all test test-rules test-matrix test-upstream validate-upstream upstream-coverage check-upstream-coverage test-published validate rehearse lint bench soak fuzz victim-image victim-images catalog check-catalog clean clean-containers

all: lint test

## test: every test that needs no Falco image (real Docker, real victims, real wires);
## scripts/check-requirements.sh first names what the machine lacks (README: Requirements)
test:
	@scripts/check-requirements.sh
	@$(MAKE) --no-print-directory victim-images
	$(GO) test -count=1 -timeout 45m ./...

## test-rules: replay every scenario against a real Falco running the candidate rules
## (the configuration is checked first, within a second, then the images)
test-rules:
	@$(GO) build -o build/attack-replay ./cmd/attack-replay && build/attack-replay check-config >/dev/null
	@scripts/require-falco-image.sh "$(FALCO_IMAGE)"
	@$(MAKE) --no-print-directory victim-image
	$(GO) tool ginkgo --tags rules --timeout 2h --poll-progress-after 120s \
	  $(if $(LABEL_FILTER),--label-filter '$(LABEL_FILTER)') $(GINKGO_FLAGS) ./suites/techniques

## test-matrix: test-rules once per FALCO_IMAGES entry (IMAGE, IMAGE@grpc, IMAGE@http), one after the
## other, into REPORT_DIR/matrix/<entry>/, then REPORT_DIR/matrix/matrix.{md,html,json}
test-matrix:
	@GO="$(GO)" MAKE="$(MAKE)" FALCO_IMAGES="$(FALCO_IMAGES)" MATRIX_FLAGS="$(MATRIX_FLAGS)" scripts/test-matrix.sh

## test-upstream: the upstream library (scenarios/upstream) against falcosecurity/rules 5.0.0, the set
## Falco 0.43.1 ships: the three vendored files are the candidates (UPSTREAM_RULES=vendored, the
## default), or the image's own falco_rules.yaml with the vendored incubating and sandbox files
## (UPSTREAM_RULES=image); reports in REPORT_DIR/upstream
UPSTREAM_DIR   := fixtures/upstream-rules/falco-rules-5.0.0
UPSTREAM_FILES := $(UPSTREAM_DIR)/falco_rules.yaml $(UPSTREAM_DIR)/falco-incubating_rules.yaml $(UPSTREAM_DIR)/falco-sandbox_rules.yaml
UPSTREAM_RULES ?= vendored
test-upstream:
	@case "$(UPSTREAM_RULES)" in \
	  vendored) $(MAKE) --no-print-directory test-rules SCENARIOS=scenarios/upstream REPORT_DIR=$(REPORT_DIR)/upstream \
	    RULES="$(UPSTREAM_FILES)" FALCO_IMAGE_RULES=false ;; \
	  image) $(MAKE) --no-print-directory test-rules SCENARIOS=scenarios/upstream REPORT_DIR=$(REPORT_DIR)/upstream \
	    RULES="$(filter-out %/falco_rules.yaml,$(UPSTREAM_FILES))" FALCO_IMAGE_RULES=true ;; \
	  *) echo "UPSTREAM_RULES=$(UPSTREAM_RULES): want vendored or image" >&2; exit 2 ;; \
	esac

## validate-upstream: the upstream library offline: every scenario loads and checks against the three
## vendored files, and every rule has an attack and a benign twin, or a skip with its reason
validate-upstream:
	$(GO) run ./cmd/attack-replay validate $(foreach f,$(UPSTREAM_FILES),--rules $(f)) --scenarios scenarios/upstream
	$(GO) run ./cmd/attack-replay coverage $(foreach f,$(UPSTREAM_FILES),--rules $(f)) --scenarios scenarios/upstream \
	  --include-disabled --require-twins --per-rule

## upstream-coverage: regenerate docs/upstream-coverage.md, the upstream library's per-rule table
## (make lint fails when it is stale)
UPSTREAM_COVERAGE = $(GO) run ./cmd/attack-replay coverage $(foreach f,$(UPSTREAM_FILES),--rules $(f)) \
  --scenarios scenarios/upstream --include-disabled --per-rule --format markdown
upstream-coverage:
	@{ echo "# Upstream library coverage"; echo; echo "Generated by \`make upstream-coverage\` from scenarios/upstream and $(UPSTREAM_DIR); do not edit."; echo; \
	  $(UPSTREAM_COVERAGE); } > docs/upstream-coverage.md

check-upstream-coverage:
	@{ echo "# Upstream library coverage"; echo; echo "Generated by \`make upstream-coverage\` from scenarios/upstream and $(UPSTREAM_DIR); do not edit."; echo; \
	  $(UPSTREAM_COVERAGE); } | diff -u docs/upstream-coverage.md - >/dev/null \
	  || { echo "docs/upstream-coverage.md is stale: run make upstream-coverage" >&2; exit 1; }
	@echo "docs/upstream-coverage.md up to date"

## test-published: the seed's published (buggy) T1490 rule with the scenarios that document its bug
test-published:
	@$(MAKE) --no-print-directory test-rules RULES=fixtures/published/rules SCENARIOS=fixtures/published/scenarios \
	  REPORT_DIR=$(REPORT_DIR)/published

## validate: load and check every scenario and rules file (no Docker needed)
validate:
	$(GO) run ./cmd/attack-replay validate --rules $(RULES) --scenarios $(SCENARIOS)

## rehearse: run the selected scenarios' steps in real victims without Falco (SCENARIOS, TECHNIQUES, TACTICS, RUN=id,id)
RUN ?=
rehearse: victim-images
	$(GO) run ./cmd/attack-replay rehearse --scenarios $(SCENARIOS) $(if $(RUN),--run $(RUN))

## import-atomics: convert Atomic Red Team atomics into scenarios (ATOMICS=path/to/atomic-red-team/atomics,
## ATOMICS_OUT, default scenarios/atomics/; ATOMICS_FLAGS=--allow-network)
ATOMICS       ?=
ATOMICS_OUT   ?= scenarios/atomics/
ATOMICS_FLAGS ?=
.PHONY: import-atomics
import-atomics:
	@test -n "$(ATOMICS)" || { echo "make import-atomics: set ATOMICS to an atomics file or directory, like ATOMICS=../atomic-red-team/atomics" >&2; exit 2; }
	$(GO) run ./cmd/attack-replay import-atomics $(ATOMICS) --out $(ATOMICS_OUT) $(ATOMICS_FLAGS)

## victim-image: build the victim image (offline when no registry is reachable); no-op when present
victim-image:
	@scripts/victim-image.sh "$(VICTIM_IMAGE)"

## victim-images: build both victim images, the default one and the tools one (victim: {image: tools})
victim-images: victim-image
	@scripts/victim-image.sh "$(VICTIM_TOOLS_IMAGE)"

## lint: gofmt, go vet (with the suite's and the soak's build tags), actionlint, generated-docs staleness
lint: check-catalog check-upstream-coverage
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags rules ./suites/...
	$(GO) vet -tags rules,soakhook ./suites/techniques
	$(GO) vet -tags soak ./suites/soak
	$(GO) tool actionlint

## catalog: regenerate the README's list of shipped techniques from the data
catalog:
	$(GO) run ./cmd/attack-replay catalog --rules rules/ --scenarios scenarios/ --write README.md

check-catalog:
	$(GO) run ./cmd/attack-replay catalog --rules rules/ --scenarios scenarios/ --check README.md

## bench: the speed goals (alert ingestion, harness overhead per scenario and per phase), then
## one table per benchmark, medians over BENCH_COUNT runs (README: Performance)
BENCH_COUNT ?= 3
BENCH       ?= .
bench: victim-image
	@mkdir -p build; set -o pipefail; $(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(BENCH_COUNT) -timeout 60m ./harness/... \
	  | tee build/bench.txt
	@$(GO) run ./scripts/bench-table < build/bench.txt

## soak: the suite against a stand-in Falco SOAK_RUNS times, each run with one injected fault, then
## the table fault → runs → correct exits → leaks → longest run (SOAK_SEED replays an order,
## SOAK_FAULTS=SIGINT,paused only the faults whose names contain one of these)
SOAK_RUNS ?= 100
soak: victim-image
	SOAK_RUNS=$(SOAK_RUNS) $(GO) test -count=1 -tags soak -run '^TestSoak$$' -v -timeout 6h ./suites/soak

## fuzz: every fuzz target (scenario loader, condition parser, rules parser, alert decoder, ATT&CK tag
## classifier), run side by side (FUZZTIME each)
FUZZTIME ?= 2m
FUZZ_TARGETS := FuzzLoad:./harness/scenario FuzzParse:./harness/condition FuzzParse:./harness/rules \
  FuzzDecodeJSON:./harness/alert FuzzClassifyTag:./harness/attack
fuzz:
	@pids=(); for t in $(FUZZ_TARGETS); do \
	  ( set -o pipefail; $(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s "$${t#*:}" 2>&1 \
	    | sed -u "s|^|$${t#*/}: |" ) & pids+=($$!); \
	done; status=0; for p in "$${pids[@]}"; do wait "$$p" || status=1; done; exit $$status

## doctor: tell whether Falco will start on this host and what to do where not (DOCTOR_FLAGS=--json)
.PHONY: doctor
doctor:
	$(GO) run ./cmd/attack-replay doctor $(DOCTOR_FLAGS)

## test-mutants: mutation testing in a real Falco (FALCO_IMAGE): mutants of the rules of RULES next to the originals,
## classified by SCENARIOS; REPORT_DIR/mutants.{md,html,json} (MUTANTS_FLAGS="--rule NAME --fail-under PCT")
## mutants-predict: the same without Falco, predicted from the events the steps imply
.PHONY: test-mutants mutants-predict
MUTANTS_FLAGS ?=
MUTANTS_ARGS = $(foreach r,$(RULES),--rules $(r)) --scenarios $(SCENARIOS) --report-dir $(REPORT_DIR) $(MUTANTS_FLAGS)
test-mutants:
	@$(GO) build -o build/attack-replay ./cmd/attack-replay && build/attack-replay check-config >/dev/null
	@scripts/require-falco-image.sh "$(FALCO_IMAGE)"
	@$(MAKE) --no-print-directory victim-images
	build/attack-replay mutate $(MUTANTS_ARGS)

mutants-predict:
	$(GO) run ./cmd/attack-replay mutate --predict $(MUTANTS_ARGS)

## clean-containers: remove every container labelled attack-replay (left by a killed run)
clean-containers:
	@ids=$$(docker ps -aq --filter label=attack-replay); \
	  if [ -n "$$ids" ]; then docker rm -f -v $$ids; else echo "no attack-replay containers"; fi

clean:
	rm -rf "$(REPORT_DIR)"
