package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// MaxBodyBytes bounds one alert body; Falco's alerts are a few KiB.
const MaxBodyBytes = 1 << 20

// maxPending bounds alerts held for a Run that has not started: beyond it
// the receiver answers 503 (counted) rather than grow without limit.
const maxPending = 1 << 16

// HTTPStats counts what an HTTPReceiver has seen.
type HTTPStats struct {
	Received  int64  // alerts accepted (decoded and delivered or held for Run)
	Malformed int64  // bodies that were not a Falco JSON alert (400)
	Oversized int64  // bodies over MaxBodyBytes (413)
	Rejected  int64  // other refusals: wrong method (405), receiver closed or full (503)
	LastError string // why the most recent body was refused
}

// HTTPReceiver receives Falco's http_output: one JSON POST per alert
// (fixtures/falco/FACTS.md: Content-Type application/json, User-Agent falcosecurity/falco).
// It serves from the moment it is created, so alerts that Falco posts
// before Run starts (the readiness canary, for one) are held and delivered
// first when Run starts. A POST is answered only after its alert has been
// delivered (or held), so Falco's sequential POSTs keep their order.
type HTTPReceiver struct {
	ln  net.Listener
	srv *http.Server

	mu      sync.Mutex
	deliver func(Alert) // set while Run runs
	pending []Alert     // accepted before Run started
	closed  bool
	stats   HTTPStats

	serveDone chan struct{}
	serveErr  error
}

// NewHTTPReceiver listens on addr ("127.0.0.1:0" for the host's loopback,
// "0.0.0.0:0" to be reachable from a container through the Docker gateway)
// and starts serving at once. Close it, or Run it, to stop serving.
func NewHTTPReceiver(addr string) (*HTTPReceiver, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for falco http_output on %q: %w", addr, err)
	}
	r := &HTTPReceiver{ln: ln, serveDone: make(chan struct{})}
	r.srv = &http.Server{
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	go func() {
		defer close(r.serveDone)
		if err := r.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			r.serveErr = err
		}
	}()
	return r, nil
}

// Port is the TCP port the receiver listens on.
func (r *HTTPReceiver) Port() int { return r.ln.Addr().(*net.TCPAddr).Port }

// URL is the receiver's address as an http URL. An unspecified listen
// address (0.0.0.0, ::) is given as 127.0.0.1; a container reaching the
// host another way builds its URL from Port.
func (r *HTTPReceiver) URL() string {
	a := r.ln.Addr().(*net.TCPAddr)
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(a.Port)) + "/"
}

// Stats returns a snapshot of the receiver's counters.
func (r *HTTPReceiver) Stats() HTTPStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Run delivers the alerts held since the receiver started, then every alert
// posted, until ctx is done; then it stops serving and returns ctx.Err(),
// or the server's error if serving failed. A receiver runs once.
func (r *HTTPReceiver) Run(ctx context.Context, deliver func(Alert)) error {
	r.mu.Lock()
	if r.closed || r.deliver != nil {
		r.mu.Unlock()
		return errors.New("run http receiver: already running or closed")
	}
	for _, a := range r.pending {
		deliver(a)
	}
	r.pending = nil
	r.deliver = deliver
	r.mu.Unlock()

	var err error
	select {
	case <-ctx.Done():
		err = ctx.Err()
	case <-r.serveDone:
		err = r.serveErr
		if err == nil {
			err = errors.New("receiver closed")
		}
		err = fmt.Errorf("serve falco http_output on %s: %w", r.ln.Addr(), err)
	}
	if cerr := r.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// Close stops serving: open connections are closed, and deliver is never
// called after Close returns. Alerts still held for Run are dropped; Close
// is for a receiver that will not run, or one whose Run has ended.
func (r *HTTPReceiver) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.deliver = nil
	r.mu.Unlock()
	if err := r.srv.Close(); err != nil {
		return fmt.Errorf("close http receiver: %w", err)
	}
	return nil
}

// ServeHTTP takes one alert per POST, whatever the path.
func (r *HTTPReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		r.refuse(w, http.StatusMethodNotAllowed, &r.stats.Rejected, fmt.Errorf("method %s (falco posts alerts)", req.Method))
		return
	}
	if req.ContentLength > MaxBodyBytes {
		r.refuse(w, http.StatusRequestEntityTooLarge, &r.stats.Oversized,
			fmt.Errorf("body of %d bytes exceeds %d", req.ContentLength, MaxBodyBytes))
		return
	}
	body, err := readBody(w, req)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			r.refuse(w, http.StatusRequestEntityTooLarge, &r.stats.Oversized,
				fmt.Errorf("body exceeds %d bytes", MaxBodyBytes))
			return
		}
		// The client went away mid-body; nothing to answer.
		r.mu.Lock()
		r.stats.Rejected++
		r.stats.LastError = fmt.Sprintf("read body: %v", err)
		r.mu.Unlock()
		return
	}
	a, err := DecodeJSON(body)
	if err != nil {
		r.refuse(w, http.StatusBadRequest, &r.stats.Malformed, err)
		return
	}
	a.Transport = TransportHTTP
	a.ReceivedAt = time.Now()

	// Delivering under the lock serialises concurrent POSTs and orders them
	// with the hand-over of the pending alerts in Run.
	r.mu.Lock()
	switch {
	case r.deliver != nil:
		r.deliver(a)
	case r.closed:
		r.mu.Unlock()
		r.refuse(w, http.StatusServiceUnavailable, &r.stats.Rejected, errors.New("receiver closed"))
		return
	case len(r.pending) >= maxPending:
		r.mu.Unlock()
		r.refuse(w, http.StatusServiceUnavailable, &r.stats.Rejected,
			fmt.Errorf("%d alerts held and the receiver is not running", maxPending))
		return
	default:
		r.pending = append(r.pending, a)
	}
	r.stats.Received++
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// readBody reads at most MaxBodyBytes. Falco declares the length, so the
// body is read into one buffer of that size, without io.ReadAll's growing.
func readBody(w http.ResponseWriter, req *http.Request) ([]byte, error) {
	body := http.MaxBytesReader(w, req.Body, MaxBodyBytes)
	if req.ContentLength < 0 {
		return io.ReadAll(body)
	}
	buf := make([]byte, req.ContentLength)
	if _, err := io.ReadFull(body, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// refuse counts a refused body and answers with code and the reason.
func (r *HTTPReceiver) refuse(w http.ResponseWriter, code int, counter *int64, err error) {
	r.mu.Lock()
	*counter++
	r.stats.LastError = err.Error()
	r.mu.Unlock()
	http.Error(w, err.Error(), code)
}
