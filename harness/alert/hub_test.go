package alert

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// loadSamples decodes one fixture file.
func loadSamples(tb testing.TB, name string) []Alert {
	tb.Helper()
	f, err := os.Open(filepath.Join(fixtures, name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	alerts, err := DecodeJSONL(f, name)
	if err != nil {
		tb.Fatal(err)
	}
	return alerts
}

// dockerID makes a 64-character id whose 12-character prefix is short, as
// Docker's API gives it for the container Falco calls short.
func dockerID(short string) string {
	id := short
	for len(id) < 64 {
		id += "0123456789abcdef"
	}
	return id[:64]
}

func TestHubAttributesByContainerIDPrefix(t *testing.T) {
	alerts := loadSamples(t, "http-0.40.0.jsonl")
	const victim = "c373d3f043fb"
	var wantVictim, wantBarriers int
	for _, a := range alerts {
		switch {
		case a.Rule == BarrierRule:
			wantBarriers++
		case a.ContainerID() == victim:
			wantVictim++
		}
	}
	if wantVictim == 0 || wantBarriers == 0 {
		t.Fatal("fixture has no alerts of the victim or no barrier alerts")
	}

	h := NewHub(NewChannelSource())
	rec := h.Track(dockerID(victim), "")
	rec.SetPhase(PhaseSteps)
	for _, a := range alerts {
		h.Deliver(a)
	}
	got := rec.Alerts()
	if len(got) != wantVictim {
		t.Fatalf("recorded %d alerts, want the %d of container %s", len(got), wantVictim, victim)
	}
	for i, a := range got {
		if a.ContainerID() != victim || !a.ByID || a.Phase != PhaseSteps || a.Step != 0 {
			t.Errorf("recorded alert %d: %+v", i, a)
		}
	}
	s := h.Stats()
	wantHost := len(alerts) - wantVictim - wantBarriers
	if s.Received != len(alerts) || s.Attributed != wantVictim || s.Barriers != wantBarriers || s.Host != wantHost {
		t.Errorf("stats %+v, want %d host", s, wantHost)
	}
	// "host", other containers and alerts without container.id all land in
	// the host bucket.
	host := h.HostAlerts()
	if len(host) != wantHost {
		t.Fatalf("host bucket holds %d, want %d", len(host), wantHost)
	}
	kinds := map[string]bool{}
	for _, a := range host {
		switch id := a.ContainerID(); {
		case id == victim:
			t.Errorf("victim alert in the host bucket: %+v", a)
		case id == "host" || id == "":
			kinds[id] = true
		default:
			kinds["other"] = true
		}
	}
	if !kinds["host"] || !kinds[""] || !kinds["other"] {
		t.Errorf("host bucket kinds %v: the fixture should give host, no-container and other-container alerts", kinds)
	}
}

// withToken returns a copy of a carrying the harness token.
func withToken(a Alert, tok Token) Alert {
	a = a.Clone()
	a.Fields[FieldToken] = tok.String()
	return a
}

func TestHubRoutesByTokenWithoutContainerFields(t *testing.T) {
	// Falco ≥ 0.41 without its container plugin sends no container.* at
	// all; the token alone must attribute.
	alerts := loadSamples(t, "http-0.43.1-no-container-plugin.jsonl")
	if len(alerts) < 8 {
		t.Fatalf("fixture has %d alerts, want at least 8", len(alerts))
	}
	for _, a := range alerts {
		if _, ok := a.Field(FieldContainerID); ok {
			t.Fatalf("fixture alert has container.id: %+v", a)
		}
	}
	h := NewHub(NewChannelSource())
	rec := h.Track(dockerID("aaaaaaaaaaaa"), "run1")
	other := h.Track(dockerID("bbbbbbbbbbbb"), "run2")
	sent := []Token{
		{"run1", PhaseSetup, 1},
		{"run1", PhaseSetup, 2},
		{"run1", PhaseSteps, 1},
		{"run2", PhaseSteps, 1},
		{"run1", PhaseSteps, 2},
		{"run1", PhaseSteps, 2},
		{"run1", PhaseCleanup, 1},
	}
	for i, tok := range sent {
		h.Deliver(withToken(alerts[i], tok))
	}
	h.Deliver(alerts[len(sent)])                                          // no token, no container: host
	h.Deliver(withToken(alerts[len(sent)], Token{"gone", PhaseSteps, 1})) // an untracked run: host

	got := rec.Alerts()
	var wantIdx []int // which sent alerts belong to run1, in order
	for i, tok := range sent {
		if tok.Run == "run1" {
			wantIdx = append(wantIdx, i)
		}
	}
	if len(got) != len(wantIdx) {
		t.Fatalf("run1 recorded %d alerts, want %d", len(got), len(wantIdx))
	}
	for i, a := range got {
		want := sent[wantIdx[i]]
		if a.Phase != want.Phase || a.Step != want.Step || a.ByID || a.Output != alerts[wantIdx[i]].Output {
			t.Errorf("alert %d: phase %s step %d byID %v output %q, want %s from sent alert %d",
				i, a.Phase, a.Step, a.ByID, a.Output, want, wantIdx[i])
		}
	}
	if o := other.Alerts(); len(o) != 1 || o[0].Phase != PhaseSteps || o[0].Step != 1 {
		t.Errorf("run2 recorded %+v", o)
	}
	if n := len(h.HostAlerts()); n != 2 {
		t.Errorf("host bucket holds %d, want the untokened and the untracked alert", n)
	}
}

func TestHubTokenOfAnotherRunFallsBackToContainerID(t *testing.T) {
	a := loadSamples(t, "http-0.40.0.jsonl")[1] // container c373d3f043fb
	h := NewHub(NewChannelSource())
	rec := h.Track(dockerID(a.ContainerID()), "run1")
	h.Deliver(withToken(a, Token{"stale", PhaseSteps, 3}))
	got := rec.Alerts()
	if len(got) != 1 || !got[0].ByID || got[0].Phase != PhaseSetup || got[0].Step != 0 {
		t.Errorf("recorded %+v, want one alert by id in the recorder's phase", got)
	}
}

func TestHubRecorderCloseStopsRouting(t *testing.T) {
	alerts := loadSamples(t, "http-0.40.0.jsonl")
	a := alerts[1]
	h := NewHub(NewChannelSource())
	rec := h.Track(dockerID(a.ContainerID()), "run1")
	h.Deliver(withToken(a, Token{"run1", PhaseSteps, 1}))
	rec.Close()
	h.Deliver(withToken(a, Token{"run1", PhaseCleanup, 1}))
	h.Deliver(a)
	if n := len(rec.Alerts()); n != 1 {
		t.Errorf("closed recorder holds %d alerts, want the 1 from before Close", n)
	}
	if n := len(h.HostAlerts()); n != 2 {
		t.Errorf("host bucket holds %d, want the 2 from after Close", n)
	}
	// A new recorder for the same container is not disturbed by the old one.
	again := h.Track(dockerID(a.ContainerID()), "run2")
	rec.Close()
	h.Deliver(a)
	if n := len(again.Alerts()); n != 1 {
		t.Errorf("new recorder holds %d alerts after the old one closed again", n)
	}
}

func TestHubHostBucketKeepsTheMostRecent(t *testing.T) {
	var base Alert
	for _, a := range loadSamples(t, "http-0.40.0.jsonl") {
		if a.ContainerID() == "host" {
			base = a
			break
		}
	}
	if base.Rule == "" {
		t.Fatal("fixture has no host alert")
	}
	h := NewHub(NewChannelSource())
	const extra = 5
	for i := range hostBucketSize + extra {
		a := base.Clone()
		a.Fields[FieldPID] = strconv.Itoa(i)
		h.Deliver(a)
	}
	host := h.HostAlerts()
	if len(host) != hostBucketSize {
		t.Fatalf("host bucket holds %d, want %d", len(host), hostBucketSize)
	}
	for i, a := range host {
		if want := strconv.Itoa(i + extra); a.Fields[FieldPID] != want {
			t.Fatalf("host alert %d has pid %s, want %s (oldest first)", i, a.Fields[FieldPID], want)
		}
	}
	if s := h.Stats(); s.Host != hostBucketSize+extra {
		t.Errorf("stats %+v", s)
	}
}

// barrierAlert turns the fixture's barrier alert into one carrying token.
func barrierAlert(tb testing.TB, token string) Alert {
	tb.Helper()
	for _, a := range loadSamples(tb, "http-0.40.0.jsonl") {
		if a.Rule == BarrierRule {
			a = a.Clone()
			a.Fields[FieldBarrier] = token
			return a
		}
	}
	tb.Fatal("fixture has no barrier alert")
	return Alert{}
}

func TestHubRoutesBarrierToItsWaiter(t *testing.T) {
	h := NewHub(NewChannelSource())
	w1 := h.Barrier("b1")
	w2 := h.Barrier("b2")
	h.Deliver(barrierAlert(t, "unclaimed"))
	h.Deliver(barrierAlert(t, "b2"))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, err := w2.Wait(ctx)
	if err != nil || a.Fields[FieldBarrier] != "b2" {
		t.Fatalf("w2: %+v, %v", a, err)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if _, err := w1.Wait(short); !errors.Is(err, ErrBarrierTimeout) {
		t.Errorf("w1: %v, want ErrBarrierTimeout", err)
	}
	if s := h.Stats(); s.Barriers != 2 || s.Attributed != 0 || s.Host != 0 {
		t.Errorf("stats %+v: barrier alerts are neither attributed nor host noise", s)
	}
	// A timed-out waiter is gone: its alert arriving late is not kept for
	// a waiter that registers afterwards.
	h.Deliver(barrierAlert(t, "b1"))
	late, cancelLate := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelLate()
	if _, err := h.Barrier("b1").Wait(late); !errors.Is(err, ErrBarrierTimeout) {
		t.Errorf("a new waiter got a barrier delivered before it registered: %v", err)
	}
}

func TestHubFailReachesEveryWaiter(t *testing.T) {
	h := NewHub(NewChannelSource())
	waiters := []*BarrierWait{h.Barrier("a"), h.Barrier("b"), h.Barrier("c")}
	boom := errors.New("falco exited with code 134")
	errs := make(chan error, len(waiters))
	for _, w := range waiters {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := w.Wait(ctx)
			errs <- err
		}()
	}
	h.Fail(boom)
	h.Fail(errors.New("second failure is ignored"))
	for range waiters {
		if err := <-errs; !errors.Is(err, boom) {
			t.Errorf("waiter got %v, want %v", err, boom)
		}
	}
	select {
	case <-h.Done():
	default:
		t.Error("Done not closed after Fail")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.Barrier("late").Wait(ctx); !errors.Is(err, boom) || ctx.Err() != nil {
		t.Errorf("waiter after Fail: %v, want %v at once", err, boom)
	}
}

func TestHubBarrierBeforeFailStillCounts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Repeated: Wait must not pick the failure by chance when both are ready.
	for range 50 {
		h := NewHub(NewChannelSource())
		w := h.Barrier("b")
		h.Deliver(barrierAlert(t, "b"))
		h.Fail(errors.New("falco died after the barrier"))
		if a, err := w.Wait(ctx); err != nil || a.Fields[FieldBarrier] != "b" {
			t.Fatalf("Wait = %+v, %v: the barrier arrived before the failure", a, err)
		}
	}
}

func TestHubRunFailsWhenTheSourceFails(t *testing.T) {
	src := NewChannelSource()
	h := NewHub(src)
	alerts := loadSamples(t, "http-0.40.0.jsonl")
	rec := h.Track(dockerID(alerts[1].ContainerID()), "")
	w := h.Barrier("never")
	src.Push(alerts...)
	boom := errors.New("stream broken")
	src.Fail(boom)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Run(ctx); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want %v", err, boom)
	}
	if _, err := w.Wait(ctx); !errors.Is(err, boom) {
		t.Errorf("waiter got %v, want %v", err, boom)
	}
	if h.Stats().Received != len(alerts) || len(rec.Alerts()) == 0 {
		t.Errorf("alerts pushed before the failure were not all routed: %+v", h.Stats())
	}
}

// quitter is a source that stops without an error while the run goes on.
type quitter struct{}

func (quitter) Run(context.Context, func(Alert)) error { return nil }

func TestHubRunFailsWhenTheSourceStopsEarly(t *testing.T) {
	h := NewHub(quitter{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Run(ctx); err == nil {
		t.Fatal("Run = nil for a source that stopped early")
	}
	if h.Err() == nil {
		t.Error("hub not failed")
	}
}

func TestHubRunEndsCleanlyOnCancel(t *testing.T) {
	h := NewHub(NewChannelSource())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v", err)
	}
	if h.Err() != nil {
		t.Errorf("a cancelled run failed the hub: %v", h.Err())
	}
}
