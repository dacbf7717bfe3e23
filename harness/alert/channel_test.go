package alert

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestChannelSourceDeliversInPushOrder(t *testing.T) {
	alerts := loadSamples(t, "http-0.40.0.jsonl")
	src := NewChannelSource()
	src.Push(alerts[:10]...) // before Run: held, not lost
	c := newCollector()
	run := runSource(t, src, c.deliver)
	for _, a := range alerts[10:] {
		src.Push(a)
	}
	got := c.waitN(t, len(alerts), 10*time.Second)
	if err := run.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel: %v", err)
	}
	for i := range alerts {
		sameAlert(t, i, got[i], alerts[i])
		if got[i].Transport != TransportReplay || got[i].ReceivedAt.IsZero() {
			t.Errorf("alert %d: transport %q, received %v", i, got[i].Transport, got[i].ReceivedAt)
		}
	}
}

func TestChannelSourceFailsAfterWhatWasPushed(t *testing.T) {
	alerts := loadSamples(t, "http-0.44.1.jsonl")
	src := NewChannelSource()
	src.Push(alerts...)
	boom := errors.New("falco exited")
	src.Fail(boom)
	c := newCollector()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := src.Run(ctx, c.deliver); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want %v", err, boom)
	}
	if n := len(c.snapshot()); n != len(alerts) {
		t.Errorf("delivered %d before failing, want %d", n, len(alerts))
	}
}

func TestChannelSourceConcurrentPushersLoseNothing(t *testing.T) {
	const pushers, each = 4, 500
	base := loadSamples(t, "http-0.44.1.jsonl")[0]
	src := NewChannelSource()
	c := newCollector()
	run := runSource(t, src, c.deliver)
	var wg sync.WaitGroup
	for p := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				a := base.Clone()
				a.Hostname = strconv.Itoa(p)
				a.Fields[FieldPID] = strconv.Itoa(i)
				src.Push(a)
			}
		}()
	}
	wg.Wait()
	got := c.waitN(t, pushers*each, 10*time.Second)
	run.stop(t)
	next := map[string]int{}
	for _, a := range got {
		if a.Fields[FieldPID] != strconv.Itoa(next[a.Hostname]) {
			t.Fatalf("pusher %s: alert %s arrived when %d was due", a.Hostname, a.Fields[FieldPID], next[a.Hostname])
		}
		next[a.Hostname]++
	}
}

func TestChannelSourceKeepsUndeliveredAlertsOnCancel(t *testing.T) {
	alerts := loadSamples(t, "http-0.44.1.jsonl")
	src := NewChannelSource()
	src.Push(alerts...)
	ctx, cancel := context.WithCancel(context.Background())
	var first []Alert
	err := src.Run(ctx, func(a Alert) {
		first = append(first, a)
		if len(first) == 2 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || len(first) != 2 {
		t.Fatalf("Run = %v after %d alerts, want cancel after 2", err, len(first))
	}
	c := newCollector()
	runSource(t, src, c.deliver)
	rest := c.waitN(t, len(alerts)-2, 10*time.Second)
	for i, a := range rest {
		sameAlert(t, i, a, alerts[i+2])
	}
}
