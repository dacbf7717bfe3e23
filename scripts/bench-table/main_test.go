package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
pkg: example.com/harness/runner
BenchmarkOverhead/workers=1-2         	       1	9400000000 ns/op	   0.47 s/scenario	   120 create-ms
BenchmarkOverhead/workers=1-2         	       1	9000000000 ns/op	   0.45 s/scenario	   110 create-ms
BenchmarkOverhead/workers=1-2         	       1	9900000000 ns/op	   0.50 s/scenario	   100 create-ms
BenchmarkOverhead/workers=2-2         	       1	6000000000 ns/op	   0.30 s/scenario	   1.5 speedup
    bench_test.go:12: BenchmarkOverhead 3 log line
BenchmarkFloor-2   	       5	200000000 ns/op
PASS
ok  	example.com/harness/runner	40.1s
`

func TestParseAndWrite(t *testing.T) {
	tables, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	write(&b, tables)
	want := `BenchmarkOverhead (example.com/harness/runner)

| BenchmarkOverhead | s/scenario | speedup | create-ms | ns/op |
|---|---:|---:|---:|---:|
| workers=1 | 0.47 (0.45–0.5) |  | 110 (100–120) | 9400000000 (9000000000–9900000000) |
| workers=2 | 0.3 | 1.5 |  | 6000000000 |

BenchmarkFloor (example.com/harness/runner)

| BenchmarkFloor | ns/op |
|---|---:|
| - | 200000000 |
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestParseRejectsBadNumbers(t *testing.T) {
	_, err := parse(strings.NewReader("BenchmarkX-2  1  abc ns/op\n"))
	if err == nil || !strings.Contains(err.Error(), "stdin:1") || !strings.Contains(err.Error(), `"abc" is not a number`) {
		t.Errorf("err = %v, want one naming stdin:1 and the bad value", err)
	}
}

func TestCellMedianOfEven(t *testing.T) {
	if got := cell([]float64{4, 1, 3, 2}); got != "2.5 (1–4)" {
		t.Errorf("cell = %q, want 2.5 (1–4)", got)
	}
}
