// Command bench-table turns `go test -bench` output (stdin) into Markdown tables, one per
// top-level benchmark, a row per sub-benchmark and a column per metric. A cell is the median
// over the runs of -count, with the range when there were several: `make bench` prints it
// after the raw output so before/after figures can be pasted as they are.
//
//	go test -run '^$' -bench . -count 3 ./harness/runner | go run ./scripts/bench-table
package main
