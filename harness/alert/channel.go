package alert

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ChannelSource is a Source fed by the program itself: tests elsewhere (the
// runner's, the suites') replay recorded alerts through it, rewritten for
// their own victim, with no Falco. Push never blocks and nothing pushed is
// lost: alerts wait, in order, until Run delivers them.
type ChannelSource struct {
	mu      sync.Mutex
	queue   []Alert
	err     error
	running bool
	wake    chan struct{} // signalled (never blocking) on Push and Fail
}

// NewChannelSource returns an empty source.
func NewChannelSource() *ChannelSource {
	return &ChannelSource{wake: make(chan struct{}, 1)}
}

// Push queues alerts for delivery in the order given. Alerts with no
// Transport get "replay", with no ReceivedAt the time of Push.
func (s *ChannelSource) Push(alerts ...Alert) {
	now := time.Now()
	s.mu.Lock()
	for _, a := range alerts {
		if a.Transport == "" {
			a.Transport = TransportReplay
		}
		if a.ReceivedAt.IsZero() {
			a.ReceivedAt = now
		}
		s.queue = append(s.queue, a)
	}
	s.mu.Unlock()
	s.signal()
}

// Fail makes Run return err once every alert pushed before it has been
// delivered, the way a transport fails after what it already received
// (Falco dying mid-run). Only the first failure is kept.
func (s *ChannelSource) Fail(err error) {
	if err == nil {
		err = errors.New("alert source failed")
	}
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.signal()
}

func (s *ChannelSource) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers pushed alerts until ctx is done (returns ctx.Err()) or Fail
// was called and the alerts pushed before it are delivered (returns the
// failure). A ChannelSource runs once at a time.
func (s *ChannelSource) Run(ctx context.Context, deliver func(Alert)) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("run channel source: already running")
	}
	s.running = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
	}()
	for {
		s.mu.Lock()
		batch, err := s.queue, s.err
		s.queue = nil
		s.mu.Unlock()
		for i, a := range batch {
			if ctx.Err() != nil {
				s.requeue(batch[i:])
				return ctx.Err()
			}
			deliver(a)
		}
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.wake:
		}
	}
}

// requeue puts undelivered alerts back in front of the queue.
func (s *ChannelSource) requeue(rest []Alert) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(append([]Alert(nil), rest...), s.queue...)
}
