package alert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/falcosecurity/client-go/pkg/api/outputs"
	"github.com/falcosecurity/client-go/pkg/api/version"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// fakeOutputs serves client-go's own generated outputs service the way
// Falco's server behaves (fixtures/falco/FACTS.md "Transports"): one global queue, popped
// only when the client sends a request on the Sub stream, then drained.
type fakeOutputs struct {
	outputs.UnimplementedServiceServer

	mu      sync.Mutex
	queue   []*outputs.Response
	sent    int
	breakAt int   // when > 0: end the stream with Unavailable once sent reaches it
	failAll error // when set: every Sub ends with it at once

	streams  atomic.Int32 // Sub streams opened
	requests atomic.Int64 // requests received on them
}

func (f *fakeOutputs) push(rs ...*outputs.Response) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, rs...)
}

func (f *fakeOutputs) Sub(stream outputs.Service_SubServer) error {
	f.streams.Add(1)
	f.mu.Lock()
	failAll := f.failAll
	f.mu.Unlock()
	if failAll != nil {
		return failAll
	}
	for {
		if _, err := stream.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		f.requests.Add(1)
		for {
			f.mu.Lock()
			if f.breakAt > 0 && f.sent == f.breakAt {
				f.breakAt = 0
				f.mu.Unlock()
				return status.Error(codes.Unavailable, "injected break")
			}
			if len(f.queue) == 0 {
				f.mu.Unlock()
				break
			}
			res := f.queue[0]
			f.queue = f.queue[1:]
			f.sent++
			f.mu.Unlock()
			if err := stream.Send(res); err != nil {
				return err
			}
		}
	}
}

type fakeVersion struct {
	version.UnimplementedServiceServer
}

func (fakeVersion) Version(context.Context, *version.Request) (*version.Response, error) {
	return &version.Response{Version: "0.40.0", Major: 0, Minor: 40, Patch: 0}, nil
}

// newFakeServer registers the fake services on a gRPC server (withOutputs
// false leaves the outputs service out, as a Falco with grpc_output off).
func newFakeServer(f *fakeOutputs, withOutputs bool, opts ...grpc.ServerOption) *grpc.Server {
	s := grpc.NewServer(opts...)
	if withOutputs {
		outputs.RegisterServiceServer(s, f)
	}
	version.RegisterServiceServer(s, fakeVersion{})
	return s
}

// socketPath returns a short unix socket path (sun_path holds 108 bytes).
func socketPath(t testing.TB) string {
	dir, err := os.MkdirTemp("", "ar-grpc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "falco.sock")
}

// serveUnix serves s on path until the test ends.
func serveUnix(t testing.TB, s *grpc.Server, path string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(s.Stop)
}

// serveTLS serves s on a loopback TCP port with the given server identity
// and client CA, requiring a client certificate, and returns the address.
func serveTLS(t testing.TB, f *fakeOutputs, server *Certs, clientCA []byte) string {
	t.Helper()
	cert, err := tls.X509KeyPair(server.ServerCert, server.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(clientCA) {
		t.Fatal("bad client CA")
	}
	creds := credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	})
	s := newFakeServer(f, true, grpc.Creds(creds))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(s.Stop)
	return ln.Addr().String()
}

// running is a source running in the background.
type running struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // Run's result, once done is closed
}

// runSource runs src in the background until the test ends.
func runSource(t testing.TB, src Source, deliver func(Alert)) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = src.Run(ctx, deliver)
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and returns its error.
func (r *running) stop(t testing.TB) error {
	r.cancel()
	return r.wait(t, 10*time.Second)
}

// wait returns Run's error, failing the test if Run is still running
// after timeout.
func (r *running) wait(t testing.TB, timeout time.Duration) error {
	select {
	case <-r.done:
		return r.err
	case <-time.After(timeout):
		t.Fatalf("Run still running after %s", timeout)
		return nil
	}
}

// returned tells whether Run has returned.
func (r *running) returned() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// checkSamplesDelivered asserts the alerts are the samples, in order, as
// FromGRPC reads them, with every digit of evt.time.
func checkSamplesDelivered(t *testing.T, got []Alert, responses []*outputs.Response, raw [][]byte) {
	t.Helper()
	if len(got) != len(responses) {
		t.Fatalf("got %d alerts, want %d", len(got), len(responses))
	}
	for i, res := range responses {
		want, err := FromGRPC(res)
		if err != nil {
			t.Fatal(err)
		}
		sameAlert(t, i, got[i], want)
		digits, _ := rawEvtTime(raw[i])
		if got[i].Fields[FieldEventTime] != digits || got[i].Transport != TransportGRPC || got[i].ReceivedAt.IsZero() {
			t.Errorf("alert %d: evt.time %q (want %s), transport %q, received %v",
				i, got[i].Fields[FieldEventTime], digits, got[i].Transport, got[i].ReceivedAt)
		}
		if id := res.GetOutputFields()[FieldContainerID]; got[i].ContainerID() != id {
			t.Errorf("alert %d: container id %q, want %q", i, got[i].ContainerID(), id)
		}
	}
}

func TestGRPCUnixSocketDeliversEverySample(t *testing.T) {
	responses, raw := grpcSamples(t)
	f := &fakeOutputs{}
	// Falco's queue fills from start-up, before anyone subscribes; the
	// rest arrives while the stream is open.
	half := len(responses) / 2
	f.push(responses[:half]...)
	path := socketPath(t)
	serveUnix(t, newFakeServer(f, true), path)

	src := NewGRPCSource(GRPCConfig{UnixSocket: path})
	c := newCollector()
	run := runSource(t, src, c.deliver)
	c.waitN(t, half, 10*time.Second)
	f.push(responses[half:]...)
	got := c.waitN(t, len(responses), 10*time.Second)
	if err := run.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel: %v, want context.Canceled", err)
	}
	checkSamplesDelivered(t, got, responses, raw)
	if s := src.Stats(); s.Delivered != int64(len(responses)) || s.Reconnects != 0 || s.Malformed != 0 {
		t.Errorf("stats %+v", s)
	}
	if n := f.streams.Load(); n != 1 {
		t.Errorf("%d Sub streams, want exactly one subscription", n)
	}
	if f.requests.Load() < 2 {
		t.Errorf("%d requests: the client does not poll", f.requests.Load())
	}
	if len(c.snapshot()) != len(responses) {
		t.Errorf("alerts delivered after Run returned")
	}
}

func TestGRPCMutualTLSDeliversEverySample(t *testing.T) {
	responses, raw := grpcSamples(t)
	certs, err := GenerateCerts("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	files, err := certs.WriteFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeOutputs{}
	f.push(responses...)
	addr := serveTLS(t, f, certs, certs.CA)

	src := NewGRPCSource(GRPCConfig{Address: addr, CertFile: files.ClientCert, KeyFile: files.ClientKey, CARootFile: files.CA})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := src.Version(ctx)
	if err != nil || v != "0.40.0" {
		t.Fatalf("Version over mTLS = %q, %v", v, err)
	}
	c := newCollector()
	run := runSource(t, src, c.deliver)
	got := c.waitN(t, len(responses), 10*time.Second)
	run.stop(t)
	checkSamplesDelivered(t, got, responses, raw)
}

func TestGRPCRefusesCertificatesOfAnotherCA(t *testing.T) {
	ours, err := GenerateCerts("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := GenerateCerts("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		// what the client presents and trusts
		client, clientKey, trusted []byte
	}{
		{"client cert signed by another CA", theirs.ClientCert, theirs.ClientKey, ours.CA},
		{"server cert signed by another CA", ours.ClientCert, ours.ClientKey, theirs.CA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeOutputs{}
			f.push(&outputs.Response{Rule: "must not arrive"})
			addr := serveTLS(t, f, ours, ours.CA)
			dir := t.TempDir()
			cfg := GRPCConfig{
				Address:          addr,
				CertFile:         filepath.Join(dir, "c.crt"),
				KeyFile:          filepath.Join(dir, "c.key"),
				CARootFile:       filepath.Join(dir, "ca.crt"),
				ReconnectTimeout: 300 * time.Millisecond,
			}
			for p, b := range map[string][]byte{cfg.CertFile: tc.client, cfg.KeyFile: tc.clientKey, cfg.CARootFile: tc.trusted} {
				if err := os.WriteFile(p, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			src := NewGRPCSource(cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if v, err := src.Version(ctx); err == nil {
				t.Errorf("Version = %q, want a refusal", v)
			}
			c := newCollector()
			err := src.Run(ctx, c.deliver)
			if err == nil || ctx.Err() != nil {
				t.Fatalf("Run = %v (ctx %v), want a TLS failure before the deadline", err, ctx.Err())
			}
			if n := f.streams.Load(); n != 0 || len(c.snapshot()) != 0 {
				t.Errorf("%d streams reached the server, %d alerts delivered", n, len(c.snapshot()))
			}
			t.Logf("refused: %v", err)
		})
	}
}

func TestGRPCVersionOverUnixSocket(t *testing.T) {
	path := socketPath(t)
	serveUnix(t, newFakeServer(&fakeOutputs{}, true), path)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := NewGRPCSource(GRPCConfig{UnixSocket: "unix://" + path}).Version(ctx)
	if err != nil || v != "0.40.0" {
		t.Fatalf("Version = %q, %v", v, err)
	}
}

func TestGRPCReconnectsWithoutLosingQueuedAlerts(t *testing.T) {
	responses, raw := grpcSamples(t)
	f := &fakeOutputs{breakAt: 5}
	f.push(responses...)
	path := socketPath(t)
	serveUnix(t, newFakeServer(f, true), path)

	src := NewGRPCSource(GRPCConfig{UnixSocket: path})
	c := newCollector()
	run := runSource(t, src, c.deliver)
	got := c.waitN(t, len(responses), 10*time.Second)
	run.stop(t)
	checkSamplesDelivered(t, got, responses, raw)
	s := src.Stats()
	if s.Reconnects < 1 || !strings.Contains(s.LastError, "injected break") {
		t.Errorf("stats %+v, want a counted reconnect after the injected break", s)
	}
	if n := f.streams.Load(); n < 2 {
		t.Errorf("%d streams, want a second one after the break", n)
	}
}

func TestGRPCReconnectsToARestartedServer(t *testing.T) {
	responses, raw := grpcSamples(t)
	path := socketPath(t)
	first := &fakeOutputs{}
	first.push(responses[:10]...)
	s1 := newFakeServer(first, true)
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go s1.Serve(ln)

	src := NewGRPCSource(GRPCConfig{UnixSocket: path})
	c := newCollector()
	run := runSource(t, src, c.deliver)
	c.waitN(t, 10, 10*time.Second)
	s1.Stop() // Falco's container restarts: same socket path, new server

	second := &fakeOutputs{}
	second.push(responses[10:]...)
	serveUnix(t, newFakeServer(second, true), path)
	got := c.waitN(t, len(responses), 10*time.Second)
	if run.returned() {
		t.Fatalf("Run returned %v during a recoverable break", run.err)
	}
	run.stop(t)
	checkSamplesDelivered(t, got, responses, raw)
	if src.Stats().Reconnects < 1 {
		t.Errorf("stats %+v, want a counted reconnect", src.Stats())
	}
}

func TestGRPCFailsLoudlyWhenTheServerStops(t *testing.T) {
	responses, _ := grpcSamples(t)
	f := &fakeOutputs{}
	f.push(responses[:3]...)
	path := socketPath(t)
	s := newFakeServer(f, true)
	serveUnix(t, s, path)

	src := NewGRPCSource(GRPCConfig{UnixSocket: path, ReconnectTimeout: 500 * time.Millisecond})
	c := newCollector()
	run := runSource(t, src, c.deliver)
	c.waitN(t, 3, 10*time.Second)
	s.Stop()
	err := run.wait(t, 10*time.Second)
	if err == nil || errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "reconnects") {
		t.Fatalf("Run = %v, want the broken stream", err)
	}
	t.Logf("Run: %v", err)
	if st := src.Stats(); st.Reconnects < 1 || st.LastError == "" {
		t.Errorf("stats %+v, want counted reconnects and the last error", st)
	}
}

func TestGRPCFailsLoudlyWhenEveryStreamFails(t *testing.T) {
	f := &fakeOutputs{failAll: status.Error(codes.Internal, "queue exploded")}
	path := socketPath(t)
	serveUnix(t, newFakeServer(f, true), path)
	src := NewGRPCSource(GRPCConfig{UnixSocket: path, ReconnectTimeout: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := src.Run(ctx, func(Alert) {})
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "queue exploded") {
		t.Fatalf("Run = %v, want the server's error before the deadline", err)
	}
	if f.streams.Load() < 2 || src.Stats().Reconnects < 1 {
		t.Errorf("%d streams, stats %+v: want retries before giving up", f.streams.Load(), src.Stats())
	}
}

func TestGRPCWithoutOutputsServiceFailsAtOnce(t *testing.T) {
	path := socketPath(t)
	serveUnix(t, newFakeServer(nil, false), path)
	src := NewGRPCSource(GRPCConfig{UnixSocket: path})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := src.Run(ctx, func(Alert) {})
	if status.Code(err) != codes.Unimplemented || !strings.Contains(err.Error(), "grpc_output") {
		t.Fatalf("Run = %v, want Unimplemented with a hint", err)
	}
	if n := src.Stats().Reconnects; n != 0 {
		t.Errorf("%d reconnects for an error no reconnect can fix", n)
	}
}

func TestGRPCConfigErrorsFailAtOnce(t *testing.T) {
	for name, cfg := range map[string]GRPCConfig{
		"nothing":       {},
		"no tls files":  {Address: "127.0.0.1:5060"},
		"no port":       {Address: "127.0.0.1", CertFile: "c", KeyFile: "k", CARootFile: "ca"},
		"missing files": {Address: "127.0.0.1:5060", CertFile: "/nonexistent/c", KeyFile: "/nonexistent/k", CARootFile: "/nonexistent/ca"},
	} {
		src := NewGRPCSource(cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := src.Run(ctx, func(Alert) {})
		if err == nil || ctx.Err() != nil || src.Stats().Reconnects != 0 {
			t.Errorf("%s: Run = %v, reconnects %d: want an immediate error", name, err, src.Stats().Reconnects)
		}
		if _, err := src.Version(ctx); err == nil {
			t.Errorf("%s: Version succeeded", name)
		}
		cancel()
	}
}

func TestGRPCCountsResponsesItCannotConvert(t *testing.T) {
	responses, _ := grpcSamples(t)
	f := &fakeOutputs{}
	f.push(&outputs.Response{Rule: "no time"}, responses[0])
	path := socketPath(t)
	serveUnix(t, newFakeServer(f, true), path)
	src := NewGRPCSource(GRPCConfig{UnixSocket: path})
	c := newCollector()
	run := runSource(t, src, c.deliver)
	got := c.waitN(t, 1, 10*time.Second)
	run.stop(t)
	if got[0].Rule != responses[0].GetRule() {
		t.Errorf("delivered %+v", got[0])
	}
	if s := src.Stats(); s.Received != 2 || s.Malformed != 1 || !strings.Contains(s.LastError, "no time") {
		t.Errorf("stats %+v, want the bad response counted", s)
	}
}
