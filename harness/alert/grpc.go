package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/falcosecurity/client-go/pkg/api/outputs"
	"github.com/falcosecurity/client-go/pkg/api/version"
	"github.com/falcosecurity/client-go/pkg/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Defaults of GRPCConfig.
const (
	// DefaultPollInterval: Falco's bidirectional Sub pops its output queue
	// only when the client sends a request, so alert latency follows the
	// poll interval (fixtures/falco/FACTS.md: 50 ms poll gave a 34.5 ms median, 5 ms gave
	// 6.8 ms).
	DefaultPollInterval = 5 * time.Millisecond
	// DefaultReconnectTimeout bounds how long a broken stream is retried
	// before Run gives up; Falco restarts in about 2 s (fixtures/falco/FACTS.md).
	DefaultReconnectTimeout = 10 * time.Second
)

// Backoff between reconnect attempts, doubling from min to max.
const (
	reconnectBackoffMin = 20 * time.Millisecond
	reconnectBackoffMax = time.Second
)

// GRPCConfig says how to reach Falco's gRPC server. Set UnixSocket, or
// Address with the three mutual-TLS files: Falco serves TCP only with
// mutual TLS and a unix socket with no TLS.
type GRPCConfig struct {
	// UnixSocket is the socket path ("/tmp/x/falco.sock") or URL
	// ("unix:///tmp/x/falco.sock"); it wins over Address.
	UnixSocket string
	// Address is host:port of Falco's TCP gRPC server. host must be a name
	// or IP address in the server certificate.
	Address string
	// Client certificate, its key and the CA that signed Falco's server
	// certificate (PEM files, see Certs.WriteFiles).
	CertFile, KeyFile, CARootFile string
	// PollInterval is how often a request is sent on the Sub stream; each
	// request makes Falco send what its queue holds. Default
	// DefaultPollInterval.
	PollInterval time.Duration
	// ReconnectTimeout is how long Run keeps reconnecting a broken stream
	// before it returns an error. Default DefaultReconnectTimeout.
	ReconnectTimeout time.Duration
}

// GRPCStats counts what a GRPCSource has done.
type GRPCStats struct {
	Received   int64  // responses received, delivered or not
	Delivered  int64  // alerts handed to deliver
	Malformed  int64  // responses that could not be converted (not delivered; see LastError)
	Reconnects int64  // streams re-opened after a break
	LastError  string // the most recent stream break or conversion error
}

// GRPCSource receives alerts from Falco's gRPC outputs service (Falco
// ≤ 0.43) through client-go. Falco keeps one global output queue and two
// subscribers split it (fixtures/falco/FACTS.md), so run exactly one GRPCSource per Falco
// and fan out with a Hub.
type GRPCSource struct {
	cfg GRPCConfig

	received, delivered, malformed, reconnects atomic.Int64

	mu      sync.Mutex
	lastErr string
}

// NewGRPCSource returns a source for cfg; nothing is dialled until Run or
// Version.
func NewGRPCSource(cfg GRPCConfig) *GRPCSource {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.ReconnectTimeout <= 0 {
		cfg.ReconnectTimeout = DefaultReconnectTimeout
	}
	return &GRPCSource{cfg: cfg}
}

// Stats returns a snapshot of the source's counters.
func (s *GRPCSource) Stats() GRPCStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return GRPCStats{
		Received:   s.received.Load(),
		Delivered:  s.delivered.Load(),
		Malformed:  s.malformed.Load(),
		Reconnects: s.reconnects.Load(),
		LastError:  s.lastErr,
	}
}

func (s *GRPCSource) setLastErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastErr = err.Error()
}

// target names the server in errors.
func (s *GRPCSource) target() string {
	if s.cfg.UnixSocket != "" {
		return unixURL(s.cfg.UnixSocket)
	}
	return s.cfg.Address
}

func unixURL(p string) string {
	if strings.HasPrefix(p, "unix://") {
		return p
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return "unix://" + p
}

// dial builds a client-go client. Its errors are configuration errors
// (missing files, bad address): retrying cannot fix them. The connection
// itself is made lazily by the first call.
func (s *GRPCSource) dial(ctx context.Context) (*client.Client, error) {
	cfg := &client.Config{}
	switch {
	case s.cfg.UnixSocket != "":
		cfg.UnixSocketPath = unixURL(s.cfg.UnixSocket)
	case s.cfg.Address != "":
		host, portText, err := net.SplitHostPort(s.cfg.Address)
		if err != nil {
			return nil, fmt.Errorf("dial falco grpc %q: %w (want host:port)", s.cfg.Address, err)
		}
		port, err := strconv.ParseUint(portText, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("dial falco grpc %q: port: %w", s.cfg.Address, err)
		}
		if s.cfg.CertFile == "" || s.cfg.KeyFile == "" || s.cfg.CARootFile == "" {
			return nil, fmt.Errorf("dial falco grpc %q: TCP needs mutual TLS: set CertFile, KeyFile and CARootFile (see GenerateCerts)", s.cfg.Address)
		}
		cfg.Hostname, cfg.Port = host, uint16(port)
		cfg.CertFile, cfg.KeyFile, cfg.CARootFile = s.cfg.CertFile, s.cfg.KeyFile, s.cfg.CARootFile
	default:
		return nil, errors.New("dial falco grpc: set UnixSocket or Address")
	}
	c, err := client.NewForConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("dial falco grpc %q: %w", s.target(), err)
	}
	return c, nil
}

// Version asks Falco's version service for its version ("0.40.0").
func (s *GRPCSource) Version(ctx context.Context) (string, error) {
	c, err := s.dial(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	vc, err := c.Version()
	if err != nil {
		return "", fmt.Errorf("get falco version from %q: %w", s.target(), err)
	}
	res, err := vc.Version(ctx, &version.Request{})
	if err != nil {
		return "", fmt.Errorf("get falco version from %q: %w", s.target(), err)
	}
	return res.GetVersion(), nil
}

// Run subscribes to Falco's outputs and delivers every alert, in the order
// Falco sent them, until ctx is done (it returns ctx.Err()) or the stream
// stays broken for ReconnectTimeout (it returns why). A broken stream is
// re-opened with a bounded backoff; alerts Falco still holds in its queue
// are delivered after the reconnect, and every reconnect is counted in
// Stats. deliver is never called after Run returns.
func (s *GRPCSource) Run(ctx context.Context, deliver func(Alert)) error {
	var failingSince time.Time
	backoff := reconnectBackoffMin
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			s.reconnects.Add(1)
		}
		healthy, err := s.subscribe(ctx, deliver)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.setLastErr(err)
		if status.Code(err) == codes.Unimplemented {
			return fmt.Errorf("subscribe to falco outputs at %q: %w (is grpc_output.enabled true?)", s.target(), err)
		}
		var cfgErr configError
		if errors.As(err, &cfgErr) {
			return cfgErr.err
		}
		if healthy {
			failingSince, backoff = time.Time{}, reconnectBackoffMin
		}
		if failingSince.IsZero() {
			failingSince = time.Now()
		}
		if broken := time.Since(failingSince); broken >= s.cfg.ReconnectTimeout {
			return fmt.Errorf("subscribe to falco outputs at %q: stream broken for %s, %d reconnects: %w",
				s.target(), broken.Round(time.Millisecond), s.reconnects.Load(), err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, reconnectBackoffMax)
	}
}

// configError marks errors that no reconnect can fix.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }

// healthyAfter is how long a stream must stay open, when it brings no
// alert, to count as recovered (resetting the reconnect budget).
const healthyAfter = time.Second

// subscribe runs one Sub stream until it breaks or ctx is done; it never
// returns a nil error. healthy tells whether the stream worked for a while
// (it brought an alert or stayed open healthyAfter).
//
// client-go's OutputsWatch is not used: it sends a request only after a
// poll interval without responses, ignores Send errors, treats a clean end
// of stream (io.EOF, Falco stopping) as success, and can leave its receiving
// goroutine blocked after returning. Here one goroutine receives and
// delivers (so order is kept) while this one sends a request every poll
// interval, and both have ended when subscribe returns.
func (s *GRPCSource) subscribe(ctx context.Context, deliver func(Alert)) (healthy bool, err error) {
	c, err := s.dial(ctx)
	if err != nil {
		return false, configError{err}
	}
	defer c.Close()
	oc, err := c.Outputs()
	if err != nil {
		return false, configError{fmt.Errorf("subscribe to falco outputs at %q: %w", s.target(), err)}
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := oc.Sub(sctx)
	if err != nil {
		return false, err
	}
	start := time.Now()
	var gotAlert atomic.Bool
	recvErr := make(chan error, 1)
	go func() {
		for {
			res, err := sub.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			gotAlert.Store(true)
			s.received.Add(1)
			a, err := FromGRPC(res)
			if err != nil {
				s.malformed.Add(1)
				s.setLastErr(err)
				continue
			}
			a.ReceivedAt = time.Now()
			deliver(a)
			s.delivered.Add(1)
		}
	}()
	isHealthy := func() bool { return gotAlert.Load() || time.Since(start) >= healthyAfter }
	streamErr := func(err error) error {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("falco at %q closed the outputs stream", s.target())
		}
		return err
	}

	tick := time.NewTicker(s.cfg.PollInterval)
	defer tick.Stop()
	for {
		next := tick.C
		if err := sub.Send(&outputs.Request{}); err != nil {
			// The stream is gone; its real status comes from Recv, so
			// wait for that and stop polling (a nil channel never fires).
			next = nil
		}
		select {
		case err := <-recvErr:
			return isHealthy(), streamErr(err)
		case <-ctx.Done():
			cancel()
			<-recvErr
			return false, ctx.Err()
		case <-next:
		}
	}
}
