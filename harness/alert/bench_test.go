package alert

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/falcosecurity/client-go/pkg/api/outputs"
)

// counter routes every alert through a Hub, as a run does, and counts it.
type counter struct {
	hub     *Hub
	n       atomic.Int64
	reached chan struct{}
	want    int64
}

func newCounter(want int) *counter {
	h := NewHub(NewChannelSource())
	// One tracked victim, as in a run: alerts of 014eda703fe5 go to its
	// recorder, the rest to the host bucket.
	h.Track(dockerID("014eda703fe5"), "run1")
	return &counter{hub: h, reached: make(chan struct{}), want: int64(want)}
}

func (c *counter) deliver(a Alert) {
	c.hub.Deliver(a)
	if c.n.Add(1) == c.want {
		close(c.reached)
	}
}

func (c *counter) wait(b *testing.B) {
	select {
	case <-c.reached:
	case <-time.After(time.Minute):
		b.Fatalf("received %d of %d alerts", c.n.Load(), c.want)
	}
	if got := c.n.Load(); got != c.want || c.hub.Stats().Received != int(c.want) {
		b.Fatalf("received %d alerts, hub routed %d, want %d", got, c.hub.Stats().Received, c.want)
	}
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
}

// BenchmarkHTTPIngest posts recorded alerts one after another over one
// kept-alive loopback connection, as Falco's libcurl does, through the
// receiver's decoding and delivery; none may be lost.
func BenchmarkHTTPIngest(b *testing.B) {
	var lines [][]byte
	for _, f := range sampleFiles(b, "http-*.jsonl") {
		lines = append(lines, sampleLines(b, f)...)
	}
	r := newReceiver(b)
	c := newCounter(b.N)
	run := runSource(b, r, c.deliver)
	client := falcoClient()
	b.ResetTimer()
	for i := range b.N {
		req, _ := http.NewRequest(http.MethodPost, r.URL(), bytes.NewReader(lines[i%len(lines)]))
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
	c.wait(b)
	b.StopTimer()
	reportRate(b)
	run.stop(b)
}

// BenchmarkHTTPIngestParallel posts from several kept-alive connections at
// once: the receiver's capacity when the client is not one sequential
// round trip at a time (Falco's own http_output is).
func BenchmarkHTTPIngestParallel(b *testing.B) {
	var lines [][]byte
	for _, f := range sampleFiles(b, "http-*.jsonl") {
		lines = append(lines, sampleLines(b, f)...)
	}
	r := newReceiver(b)
	c := newCounter(b.N)
	run := runSource(b, r, c.deliver)
	var seq atomic.Int64
	b.SetParallelism(2) // 2×GOMAXPROCS connections
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		client := falcoClient()
		for pb.Next() {
			line := lines[int(seq.Add(1))%len(lines)]
			req, _ := http.NewRequest(http.MethodPost, r.URL(), bytes.NewReader(line))
			req.Header.Set("Content-Type", "application/json")
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	c.wait(b)
	b.StopTimer()
	reportRate(b)
	run.stop(b)
}

// BenchmarkGRPCIngest streams recorded responses from an in-process server
// that behaves like Falco's (queue popped on each client request) over a
// unix socket, at the default poll interval, while a producer keeps filling
// the queue; none may be lost.
func BenchmarkGRPCIngest(b *testing.B) {
	benchmarkGRPC(b, func(b *testing.B, f *fakeOutputs) GRPCConfig {
		path := socketPath(b)
		serveUnix(b, newFakeServer(f, true), path)
		return GRPCConfig{UnixSocket: path}
	})
}

// BenchmarkGRPCIngestMutualTLS is BenchmarkGRPCIngest over TCP with mutual TLS.
func BenchmarkGRPCIngestMutualTLS(b *testing.B) {
	benchmarkGRPC(b, func(b *testing.B, f *fakeOutputs) GRPCConfig {
		certs, err := GenerateCerts("127.0.0.1")
		if err != nil {
			b.Fatal(err)
		}
		files, err := certs.WriteFiles(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		addr := serveTLS(b, f, certs, certs.CA)
		return GRPCConfig{Address: addr, CertFile: files.ClientCert, KeyFile: files.ClientKey, CARootFile: files.CA}
	})
}

func benchmarkGRPC(b *testing.B, serve func(*testing.B, *fakeOutputs) GRPCConfig) {
	responses, _ := grpcSamples(b)
	f := &fakeOutputs{}
	src := NewGRPCSource(serve(b, f))
	c := newCounter(b.N)
	run := runSource(b, src, c.deliver)
	b.ResetTimer()
	// Falco fills its queue as events match; push in small batches so
	// the stream is drained while it fills.
	const batch = 64
	for i := 0; i < b.N; i += batch {
		n := min(batch, b.N-i)
		rs := make([]*outputs.Response, n)
		for j := range rs {
			rs[j] = responses[(i+j)%len(responses)]
		}
		f.push(rs...)
	}
	c.wait(b)
	b.StopTimer()
	reportRate(b)
	run.stop(b)
	if s := src.Stats(); s.Reconnects != 0 || s.Malformed != 0 {
		b.Errorf("stats %+v", s)
	}
}

// BenchmarkDecodeJSON measures decoding alone, the receiver's own cost per alert.
func BenchmarkDecodeJSON(b *testing.B) {
	var lines [][]byte
	for _, f := range sampleFiles(b, "http-*.jsonl") {
		lines = append(lines, sampleLines(b, f)...)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := DecodeJSON(lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGRPCLatency measures push-to-deliver latency of single alerts at
// the default poll interval: Falco's server only sends on a client request,
// so latency follows the poll (fixtures/falco/FACTS.md: 5 ms poll gave a 6.8 ms median
// with a real Falco).
func BenchmarkGRPCLatency(b *testing.B) {
	responses, _ := grpcSamples(b)
	f := &fakeOutputs{}
	path := socketPath(b)
	serveUnix(b, newFakeServer(f, true), path)
	arrived := make(chan time.Time, 1)
	run := runSource(b, NewGRPCSource(GRPCConfig{UnixSocket: path}), func(Alert) { arrived <- time.Now() })
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		f.push(responses[i%len(responses)])
		select {
		case at := <-arrived:
			lat = append(lat, at.Sub(start))
		case <-time.After(10 * time.Second):
			b.Fatalf("alert %d not delivered in 10s", i)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ms-p99")
	run.stop(b)
}

// BenchmarkHubDeliverHostNoise routes host alerts into a full host bucket:
// host noise never stops, so this is the hub's steady state on a busy host.
func BenchmarkHubDeliverHostNoise(b *testing.B) {
	var host Alert
	for _, a := range loadSamples(b, "http-0.40.0.jsonl") {
		if a.ContainerID() == "host" {
			host = a
			break
		}
	}
	h := NewHub(NewChannelSource())
	h.Track(dockerID("014eda703fe5"), "run1")
	for range hostBucketSize {
		h.Deliver(host)
	}
	b.ResetTimer()
	for range b.N {
		h.Deliver(host)
	}
	b.StopTimer()
	reportRate(b)
	if got := h.Stats().Host; got != hostBucketSize+b.N {
		b.Fatalf("hub counted %d host alerts, want %d", got, hostBucketSize+b.N)
	}
}
