# gigya-migrate: the two commands of the README are `make run` and `make test`.
GO ?= go
BIN ?= bin
OUT ?= out
SAMPLE := configs/sample/accounts.jsonl.gz

.PHONY: run deadletters test test-faults fuzz build bench lint sample clean

ACCOUNTS ?= 1000
TARGET ?= auth0

## run: build, start a local JetStream server and a simulated Gigya site (ACCOUNTS accounts), migrate
## it through accounts.search into Auth0 import files in ./out/ (INPUT=files reads export files instead;
## TARGET=loginradius maps with configs/loginradius.yaml into a simulated LoginRadius tenant instead)
run:
	$(GO) run ./internal/cmd/quickstart -bin $(BIN) -out $(OUT) -accounts $(ACCOUNTS) -target $(TARGET) $(RUNFLAGS) $(INPUT)

## deadletters: list the dead letters of the last make run from the JetStream store it kept in
## ./out/nats/ (ARGS="show SEQ" shows one, ARGS="list -code CODE" filters; see docs/operating.md)
ARGS ?= list
deadletters:
	$(GO) run ./internal/cmd/quickstart -bin $(BIN) -out $(OUT) -inspect deadletter $(ARGS)

# The suites that run the binaries as processes (test/): no race build, and one package at a
# time (-p 1), so that they do not compete for the CPU with each other.
PROCESS_SUITES := ./test/e2e ./test/faults ./test/security ./test/cluster ./test/bench

## test: vet, then every test: unit and JetStream integration with the race detector, then the
## end-to-end suites (PROCESS_SUITES), which run the binaries as processes. npm ci first installs
## the SDKs pinned in test/sdk/package-lock.json, which the SDK conformance suite (test/sdk) drives
## with node (it needs Node.js 20.19 or later and npm)
test:
	$(GO) vet ./...
	npm ci --prefix test/sdk --no-audit --no-fund
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -vxF "$$($(GO) list $(PROCESS_SUITES))")
	$(GO) test -count=1 -p 1 $(PROCESS_SUITES)

## test-faults: the fault-injection suite with its full trial count (GM_FAULT_TRIALS per kind, default 10;
## GM_FAULT_SEED=N reruns the seed a failure printed); make test runs it with 2 trials per kind
GM_FAULT_TRIALS ?= 10
test-faults:
	GM_FAULT_TRIALS=$(GM_FAULT_TRIALS) $(GO) test -count=1 -timeout 60m -run '^TestFaults$$' -v ./test/faults

## fuzz: a short run of every fuzz test (FUZZTIME each: an exec count, or a duration such as 2m)
FUZZTIME ?= 20000x
FUZZ_TARGETS := \
	FuzzRead:./internal/gigya/filesource FuzzValidate:./internal/gigya/filesource FuzzDecode:./internal/mapping FuzzRecordEngine:./internal/mapping \
	FuzzHelpers:./internal/mapping/mapfunc FuzzAuth0:./internal/mapping/passhash FuzzParse:./internal/mapping/passhash/auth0verify FuzzVerify:./internal/mapping/passhash/lrverify \
	FuzzValidate:./internal/mapping/validate FuzzMapRecord:./internal/transform FuzzSearchResponse:./internal/gigya
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; pkg=$${t#*:}; \
		echo "fuzz $$name in $$pkg ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg > /tmp/gm-fuzz.log 2>&1 || { cat /tmp/gm-fuzz.log; exit 1; }; \
	done

## build: the three binaries into ./bin/
build:
	$(GO) build -o $(BIN)/ ./extractor ./transformer ./loader

## bench: the benchmarks of BENCHMARKS.md, BENCH_COUNT runs each (medians), then rewrite BENCHMARKS.md
## (about 10 minutes on 2 cores; GM_BENCH_LARGE_ACCOUNTS=0 skips the 1,000,000-account memory run,
## GM_BENCH_LARGE_RUNS=N repeats it; the raw go test output is kept in BENCH_OUT)
BENCH_COUNT ?= 3
BENCH_OUT ?= $(or $(TMPDIR),/tmp)/gigya-migrate-bench.txt
bench:
	@start=$$(date +%s); : > $(BENCH_OUT); \
	$(GO) test -run '^$$' -bench '^BenchmarkMapAuth0$$' -benchmem -count $(BENCH_COUNT) ./internal/transform 2>&1 | tee -a $(BENCH_OUT); \
	$(GO) test -run '^$$' -bench '^(BenchmarkPipeline|BenchmarkTransformerScaling|BenchmarkExtractorGigyaRate|BenchmarkLoginRadiusBulk|BenchmarkLoginService)$$' \
		-benchtime 1x -count $(BENCH_COUNT) -timeout 60m ./test/bench 2>&1 | tee -a $(BENCH_OUT); \
	$(GO) run ./internal/cmd/benchreport -o BENCHMARKS.md -elapsed $$(( $$(date +%s) - start ))s $(BENCH_OUT)

## lint: formatting and vet
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

## sample: regenerate the committed quickstart sample (deterministic), with a real export's hash costs
sample:
	$(GO) run ./extractor sample -n 1000 -seed 1 -production-costs -o $(SAMPLE)

clean:
	rm -rf $(BIN) $(OUT)
