package alert

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/falcosecurity/client-go/pkg/api/outputs"
	"google.golang.org/protobuf/encoding/protojson"
)

// fixtures holds the samples recorded from a real Falco (see its README.md).
const fixtures = "../../fixtures/falco"

// sampleFiles lists the fixture files matching pattern ("http-*.jsonl").
func sampleFiles(tb testing.TB, pattern string) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(fixtures, pattern))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no fixture matches %s in %s", pattern, fixtures)
	}
	return files
}

// sampleLines returns the non-empty lines of a fixture file, unparsed.
func sampleLines(tb testing.TB, path string) [][]byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			lines = append(lines, append([]byte(nil), l...))
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return lines
}

// evtTimeRe finds evt.time's digits in a raw line, escaped (inside a gRPC
// response's output string) or not: an independent check that decoding
// kept every digit.
var evtTimeRe = regexp.MustCompile(`"evt\.time\\?":(\d+)`)

func rawEvtTime(line []byte) (string, bool) {
	m := evtTimeRe.FindSubmatch(line)
	if m == nil {
		return "", false
	}
	return string(m[1]), true
}

// grpcResponse parses one line of samples/grpc-*.jsonl (a JSON rendering of
// client-go's outputs.Response) back into the message Falco sent.
func grpcResponse(tb testing.TB, line []byte) *outputs.Response {
	tb.Helper()
	var res outputs.Response
	if err := protojson.Unmarshal(line, &res); err != nil {
		tb.Fatalf("parse grpc sample %s: %v", line, err)
	}
	return &res
}

// grpcSamples returns every gRPC sample as a response, with its raw line.
func grpcSamples(tb testing.TB) ([]*outputs.Response, [][]byte) {
	tb.Helper()
	var res []*outputs.Response
	var raw [][]byte
	for _, f := range sampleFiles(tb, "grpc-*.jsonl") {
		for _, l := range sampleLines(tb, f) {
			res = append(res, grpcResponse(tb, l))
			raw = append(raw, l)
		}
	}
	return res, raw
}

// collector records delivered alerts and lets a test wait for them.
type collector struct {
	mu      sync.Mutex
	alerts  []Alert
	changed chan struct{}
}

func newCollector() *collector { return &collector{changed: make(chan struct{}, 1)} }

func (c *collector) deliver(a Alert) {
	c.mu.Lock()
	c.alerts = append(c.alerts, a)
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

func (c *collector) snapshot() []Alert {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Alert(nil), c.alerts...)
}

// waitN waits until n alerts arrived; it fails the test after timeout.
func (c *collector) waitN(tb testing.TB, n int, timeout time.Duration) []Alert {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if got := c.snapshot(); len(got) >= n {
			return got
		}
		select {
		case <-c.changed:
		case <-deadline.C:
			tb.Fatalf("waited %s for %d alerts, got %d", timeout, n, len(c.snapshot()))
		}
	}
}

// sameAlert compares what the wire carried, not when it was received.
func sameAlert(tb testing.TB, i int, got, want Alert) {
	tb.Helper()
	if !got.Time.Equal(want.Time) || got.Rule != want.Rule || got.Priority != want.Priority ||
		got.Source != want.Source || got.Output != want.Output || got.Hostname != want.Hostname {
		tb.Errorf("alert %d:\n got %+v\nwant %+v", i, got, want)
		return
	}
	if len(got.Fields) != len(want.Fields) {
		tb.Errorf("alert %d: fields %v, want %v", i, got.Fields, want.Fields)
		return
	}
	for k, v := range want.Fields {
		if got.Fields[k] != v {
			tb.Errorf("alert %d: field %q = %q, want %q", i, k, got.Fields[k], v)
		}
	}
	if len(got.Tags) != len(want.Tags) {
		tb.Errorf("alert %d: tags %v, want %v", i, got.Tags, want.Tags)
	}
}
