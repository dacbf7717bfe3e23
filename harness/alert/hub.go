package alert

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// hostBucketSize bounds the alerts kept for processes that belong to no
// tracked victim: host noise never stops and must not grow memory.
const hostBucketSize = 10000

// Attributed is an alert routed to one scenario attempt, with the phase and
// step of the exec that caused it.
type Attributed struct {
	Alert
	Phase Phase
	Step  int  // 1-based step of Phase; 0 when the alert carried no token
	ByID  bool // attributed by container id alone (no token)
}

// Hub takes one alert stream and demultiplexes it: alerts of a tracked victim
// go to its Recorder (by token run, else by container id prefix), barrier
// alerts go to the waiter holding their token, the rest to a bounded host
// bucket. Routing happens in the delivering goroutine, in arrival order, so
// once a barrier alert is seen every earlier alert has been recorded.
type Hub struct {
	src Source

	mu        sync.Mutex
	byRun     map[string]*Recorder
	byShortID map[string]*Recorder
	barriers  map[string]chan Alert
	host      []Alert // ring of at most hostBucketSize, oldest at hostStart
	hostStart int
	stats     Stats

	done chan struct{}
	err  error
}

// Stats counts what the hub has seen since it started.
type Stats struct {
	Received     int            // every alert delivered
	Barriers     int            // barrier alerts, claimed or not
	Attributed   int            // alerts routed to a recorder
	Host         int            // alerts of no tracked victim
	ByRule       map[string]int // every alert, by rule name
	LastReceived Alert          // the most recent alert, for error messages
}

// NewHub returns a hub reading from src; call Run to start it.
func NewHub(src Source) *Hub {
	return &Hub{
		src:       src,
		byRun:     map[string]*Recorder{},
		byShortID: map[string]*Recorder{},
		barriers:  map[string]chan Alert{},
		stats:     Stats{ByRule: map[string]int{}},
		done:      make(chan struct{}),
	}
}

// Run consumes the source until ctx ends or the source fails; a failure is
// passed to every waiter (see Fail).
func (h *Hub) Run(ctx context.Context) error {
	err := h.src.Run(ctx, h.Deliver)
	if ctx.Err() == nil {
		// A source that stops while the run goes on has failed, even if it
		// says nothing: waiters must not wait for alerts that cannot come.
		if err == nil {
			err = errors.New("stopped delivering")
		}
		err = fmt.Errorf("alert source: %w", err)
		h.Fail(err)
	}
	return err
}

// Fail stops the hub: every current and future barrier wait returns err.
// Only the first failure is kept.
func (h *Hub) Fail(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return
	}
	h.err = err
	close(h.done)
}

// Err is the error the hub failed with, or nil while it is healthy.
func (h *Hub) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// Done is closed when the hub fails.
func (h *Hub) Done() <-chan struct{} { return h.done }

// Stats returns a copy of the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.stats
	s.ByRule = make(map[string]int, len(h.stats.ByRule))
	for k, v := range h.stats.ByRule {
		s.ByRule[k] = v
	}
	return s
}

// HostAlerts returns the most recent alerts that belonged to no tracked
// victim (host processes, untracked containers, internal alerts).
func (h *Hub) HostAlerts() []Alert {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Alert, 0, len(h.host))
	out = append(out, h.host[h.hostStart:]...)
	return append(out, h.host[:h.hostStart]...)
}

// Deliver routes one alert. Sources call it in the order Falco emitted the
// alerts; it never blocks on consumers.
func (h *Hub) Deliver(a Alert) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stats.Received++
	h.stats.ByRule[a.Rule]++
	h.stats.LastReceived = a
	if a.Rule == BarrierRule {
		h.stats.Barriers++
		if ch, ok := h.barriers[a.Fields[FieldBarrier]]; ok {
			delete(h.barriers, a.Fields[FieldBarrier])
			ch <- a // buffered: never blocks
		}
		return
	}
	tok, hasTok := a.Token()
	var rec *Recorder
	if hasTok {
		rec = h.byRun[tok.Run]
	}
	if rec == nil {
		if id := a.ContainerID(); len(id) >= 12 {
			rec = h.byShortID[id[:12]]
		}
	}
	if rec == nil {
		h.stats.Host++
		// A ring: host noise never stops, and shifting a full bucket on
		// every alert would cost O(hostBucketSize) per alert.
		if len(h.host) < hostBucketSize {
			h.host = append(h.host, a)
		} else {
			h.host[h.hostStart] = a
			h.hostStart = (h.hostStart + 1) % hostBucketSize
		}
		return
	}
	h.stats.Attributed++
	at := Attributed{Alert: a, Phase: rec.phase}
	if hasTok && tok.Run == rec.run {
		at.Phase, at.Step = tok.Phase, tok.Step
	} else {
		at.ByID = true
	}
	rec.alerts = append(rec.alerts, at)
}

// Track starts recording the alerts of one scenario attempt: those whose
// token names run, and those whose container.id is a prefix of containerID
// (Falco prints 12 characters, Docker gives 64). Close the recorder when the
// attempt is over.
func (h *Hub) Track(containerID, run string) *Recorder {
	r := &Recorder{hub: h, run: run, phase: PhaseSetup}
	if len(containerID) >= 12 {
		r.shortID = containerID[:12]
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if run != "" {
		h.byRun[run] = r
	}
	if r.shortID != "" {
		h.byShortID[r.shortID] = r
	}
	return r
}

// Barrier registers a waiter for the barrier alert carrying token. Register
// before exec'ing the marker, so the alert cannot arrive unclaimed.
func (h *Hub) Barrier(token string) *BarrierWait {
	ch := make(chan Alert, 1)
	h.mu.Lock()
	h.barriers[token] = ch
	h.mu.Unlock()
	return &BarrierWait{hub: h, token: token, ch: ch}
}

// BarrierWait is one pending barrier.
type BarrierWait struct {
	hub   *Hub
	token string
	ch    chan Alert
}

// ErrBarrierTimeout is returned (wrapped) when ctx ends before the barrier alert.
var ErrBarrierTimeout = errors.New("barrier alert not received")

// Wait returns the barrier alert, the hub's failure, or an error wrapping
// ErrBarrierTimeout when ctx ends first. The waiter is removed in every case.
func (w *BarrierWait) Wait(ctx context.Context) (Alert, error) {
	defer w.cancel()
	select {
	case a := <-w.ch:
		return a, nil
	case <-w.hub.done:
		// The barrier may have arrived just before the failure; it is
		// still a valid result.
		select {
		case a := <-w.ch:
			return a, nil
		default:
		}
		return Alert{}, w.hub.Err()
	case <-ctx.Done():
		s := w.hub.Stats()
		return Alert{}, fmt.Errorf("%w: token %q (%v; hub received %d alerts, %d barriers)",
			ErrBarrierTimeout, w.token, context.Cause(ctx), s.Received, s.Barriers)
	}
}

func (w *BarrierWait) cancel() {
	w.hub.mu.Lock()
	defer w.hub.mu.Unlock()
	if w.hub.barriers[w.token] == w.ch {
		delete(w.hub.barriers, w.token)
	}
}

// Recorder holds the alerts of one scenario attempt.
type Recorder struct {
	hub     *Hub
	run     string
	shortID string
	phase   Phase // phase given to alerts that carry no token of this run
	alerts  []Attributed
}

// SetPhase sets the phase given to alerts that carry no token (processes the
// victim started outside an exec, e.g. daemons).
func (r *Recorder) SetPhase(p Phase) {
	r.hub.mu.Lock()
	defer r.hub.mu.Unlock()
	r.phase = p
}

// Alerts returns a copy of what was recorded, in arrival order.
func (r *Recorder) Alerts() []Attributed {
	r.hub.mu.Lock()
	defer r.hub.mu.Unlock()
	return append([]Attributed(nil), r.alerts...)
}

// Close stops routing alerts to the recorder; what it holds stays readable.
func (r *Recorder) Close() {
	r.hub.mu.Lock()
	defer r.hub.mu.Unlock()
	if h := r.hub; h.byRun[r.run] == r {
		delete(h.byRun, r.run)
	}
	if h := r.hub; r.shortID != "" && h.byShortID[r.shortID] == r {
		delete(h.byShortID, r.shortID)
	}
}
