package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// falcoClient posts like Falco's libcurl http_output: one connection kept
// alive, one POST at a time.
func falcoClient() *http.Client {
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1},
	}
}

// post sends one alert body the way Falco does and returns the status.
func post(tb testing.TB, c *http.Client, url string, body []byte) int {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "falcosecurity/falco")
	res, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func newReceiver(t testing.TB) *HTTPReceiver {
	t.Helper()
	r, err := NewHTTPReceiver("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestHTTPReceiverDeliversEverySampleInOrder(t *testing.T) {
	var lines [][]byte
	for _, f := range sampleFiles(t, "http-*.jsonl") {
		lines = append(lines, sampleLines(t, f)...)
	}
	r := newReceiver(t)
	c := newCollector()
	run := runSource(t, r, c.deliver)
	client := falcoClient()
	for i, l := range lines {
		if code := post(t, client, r.URL(), l); code != http.StatusOK {
			t.Fatalf("line %d: status %d", i, code)
		}
	}
	got := c.waitN(t, len(lines), 10*time.Second)
	if err := run.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel: %v", err)
	}
	for i, l := range lines {
		want, err := DecodeJSON(l)
		if err != nil {
			t.Fatal(err)
		}
		sameAlert(t, i, got[i], want)
		if got[i].Transport != TransportHTTP || got[i].ReceivedAt.IsZero() {
			t.Errorf("alert %d: transport %q, received %v", i, got[i].Transport, got[i].ReceivedAt)
		}
	}
	if s := r.Stats(); s.Received != int64(len(lines)) || s.Malformed+s.Oversized+s.Rejected != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestHTTPReceiverKeepsAlertsPostedBeforeRun(t *testing.T) {
	lines := sampleLines(t, sampleFiles(t, "http-0.44.1.jsonl")[0])
	r := newReceiver(t)
	client := falcoClient()
	for _, l := range lines[:3] {
		if code := post(t, client, r.URL(), l); code != http.StatusOK {
			t.Fatalf("status %d before Run", code)
		}
	}
	c := newCollector()
	run := runSource(t, r, c.deliver)
	for _, l := range lines[3:] {
		post(t, client, r.URL(), l)
	}
	got := c.waitN(t, len(lines), 10*time.Second)
	run.stop(t)
	for i, l := range lines {
		want, _ := DecodeJSON(l)
		sameAlert(t, i, got[i], want)
	}
}

func TestHTTPReceiverRejectsMalformedBodies(t *testing.T) {
	r := newReceiver(t)
	c := newCollector()
	runSource(t, r, c.deliver)
	client := falcoClient()
	bodies := []string{
		"",
		"Events detected: 3",
		"[]",
		`{"rule":"r"`,
		`{"rule":"r","priority":"Warning"}`,
		`{"rule":"r","priority":"Loud","time":"2026-11-25T20:44:19Z"}`,
	}
	for _, b := range bodies {
		if code := post(t, client, r.URL(), []byte(b)); code != http.StatusBadRequest {
			t.Errorf("body %q: status %d, want 400", b, code)
		}
	}
	// The receiver still works after them.
	good := sampleLines(t, sampleFiles(t, "http-0.44.1.jsonl")[0])[0]
	if code := post(t, client, r.URL(), good); code != http.StatusOK {
		t.Errorf("good body after bad ones: status %d", code)
	}
	c.waitN(t, 1, 10*time.Second)
	s := r.Stats()
	if s.Malformed != int64(len(bodies)) || s.Received != 1 || s.LastError == "" {
		t.Errorf("stats %+v, want %d malformed", s, len(bodies))
	}
	if n := len(c.snapshot()); n != 1 {
		t.Errorf("%d alerts delivered, want only the good one", n)
	}
}

// unsized hides a body's length so the client sends it chunked.
type unsized struct{ io.Reader }

func TestHTTPReceiverBoundsBodySize(t *testing.T) {
	r := newReceiver(t)
	c := newCollector()
	runSource(t, r, c.deliver)
	client := falcoClient()

	// An alert just under the limit is taken.
	pad := strings.Repeat("x", MaxBodyBytes-200)
	big := []byte(`{"rule":"r","priority":"Warning","time":"2026-11-25T20:44:19Z","output":"` + pad + `"}`)
	if code := post(t, client, r.URL(), big); code != http.StatusOK {
		t.Fatalf("alert of %d bytes: status %d", len(big), code)
	}
	over := bytes.Repeat([]byte(" "), MaxBodyBytes+1)
	if code := post(t, client, r.URL(), over); code != http.StatusRequestEntityTooLarge {
		t.Errorf("declared oversized body: status %d, want 413", code)
	}
	req, _ := http.NewRequest(http.MethodPost, r.URL(), unsized{bytes.NewReader(over)})
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversized body: status %d, want 413", res.StatusCode)
	}
	c.waitN(t, 1, 10*time.Second)
	if s := r.Stats(); s.Oversized != 2 || s.Received != 1 {
		t.Errorf("stats %+v, want 2 oversized", s)
	}
}

func TestHTTPReceiverRefusesOtherMethods(t *testing.T) {
	r := newReceiver(t)
	res, err := falcoClient().Get(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed || r.Stats().Rejected != 1 {
		t.Errorf("GET: status %d, stats %+v", res.StatusCode, r.Stats())
	}
}

func TestHTTPReceiverConcurrentBurstLosesNothing(t *testing.T) {
	const workers, perWorker = 8, 250
	line := sampleLines(t, sampleFiles(t, "http-0.40.0.jsonl")[0])[1]
	r := newReceiver(t)
	c := newCollector()
	run := runSource(t, r, c.deliver)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := falcoClient()
			for i := range perWorker {
				// A unique host name per alert: worker and sequence.
				body := bytes.Replace(line, []byte(`"hostname":"vm"`), fmt.Appendf(nil, `"hostname":"w%d-%d"`, w, i), 1)
				req, _ := http.NewRequest(http.MethodPost, r.URL(), bytes.NewReader(body))
				res, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("status %d", res.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := c.waitN(t, workers*perWorker, 10*time.Second)
	run.stop(t)
	if len(got) != workers*perWorker {
		t.Fatalf("got %d alerts, want %d", len(got), workers*perWorker)
	}
	// Each worker posts sequentially, so its alerts must arrive in order.
	next := make([]int, workers)
	for _, a := range got {
		var w, i int
		if _, err := fmt.Sscanf(a.Hostname, "w%d-%d", &w, &i); err != nil {
			t.Fatalf("hostname %q: %v", a.Hostname, err)
		}
		if i != next[w] {
			t.Fatalf("worker %d: alert %d arrived when %d was due", w, i, next[w])
		}
		next[w]++
	}
	if s := r.Stats(); s.Received != workers*perWorker {
		t.Errorf("stats %+v", s)
	}
}

func TestHTTPReceiverStopsServingWhenRunEnds(t *testing.T) {
	r := newReceiver(t)
	run := runSource(t, r, func(Alert) {})
	run.stop(t)
	line := sampleLines(t, sampleFiles(t, "http-0.44.1.jsonl")[0])[0]
	res, err := falcoClient().Post(r.URL(), "application/json", bytes.NewReader(line))
	if err == nil {
		res.Body.Close()
		t.Errorf("POST after Run ended: status %d, want a refused connection", res.StatusCode)
	}
	if err := r.Run(context.Background(), func(Alert) {}); err == nil {
		t.Error("a second Run succeeded on a closed receiver")
	}
}

func TestHTTPReceiverAddress(t *testing.T) {
	r, err := NewHTTPReceiver("0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := "http://127.0.0.1:" + strconv.Itoa(r.Port()) + "/"
	if r.Port() == 0 || r.URL() != want {
		t.Errorf("URL %q, port %d; want %q", r.URL(), r.Port(), want)
	}
	if _, err := NewHTTPReceiver("127.0.0.1:" + strconv.Itoa(r.Port())); err == nil {
		t.Error("a second receiver on a taken port")
	}
}

func TestHTTPReceiverRunEndsWhenClosed(t *testing.T) {
	r := newReceiver(t)
	run := runSource(t, r, func(Alert) {})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := run.wait(t, 10*time.Second); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v after Close, want an error saying the receiver closed", err)
	}
}
