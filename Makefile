# mod_auth_api - the two commands of the README:
#   make run    install what is missing, build, start a local Apache on
#               127.0.0.1:8080 (foreground, Ctrl-C stops it)
#   make test   install what is missing, build, run the whole suite
.PHONY: all deps deps-test run test unit memcheck clean

all: deps
	$(MAKE) --no-print-directory module

include Makefile.apxs

module: $(MODULE)

deps:
	@sh tools/deps.sh build

deps-test:
	@sh tools/deps.sh test

run: all
	@sh tools/run.sh

test: deps-test
	$(MAKE) --no-print-directory module
	@sh t/run-all.sh

unit: all
	@sh t/unit/run.sh

memcheck: all
	@sh tools/deps.sh bench
	@sh tools/memcheck.sh

clean: module-clean
	rm -rf run t/logs t/var

# Performance (bench/README.md): requests per second with wrk, and
# instructions per request with callgrind. Loopback only, bounded in time.
.PHONY: bench bench-instructions
bench: all
	@sh tools/deps.sh bench
	@timeout -k 10 3600 perl bench/throughput.pl

bench-instructions: all
	@sh tools/deps.sh bench
	@timeout -k 10 3600 perl bench/instructions.pl
