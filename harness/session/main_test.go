package session_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/attack-replay/attack-replay/harness/falco/falcotest"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// TestMain disables testcontainers' reaper unless the user chose otherwise
// (its image cannot be pulled everywhere; the harness removes what it
// starts), and removes the stand-in images the tests built.
func TestMain(m *testing.M) {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	tclog.SetDefault(tclog.NewNoopLogger())
	code := m.Run()
	for _, img := range standins.built {
		if err := falcotest.Remove(context.Background(), img); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// standins are the stand-in Falco images built so far, by version and
// replayed recording.
var standins struct {
	mu    sync.Mutex
	built map[string]string
}

// standinImage builds (once per test binary) a stand-in Falco image of
// version, replaying recording at start when it is not empty, or skips the
// test when no Docker engine answers.
func standinImage(t *testing.T, version, recording string) string {
	t.Helper()
	standins.mu.Lock()
	defer standins.mu.Unlock()
	key := version + "/" + recording
	if img, ok := standins.built[key]; ok {
		return img
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var opts []falcotest.Option
	if recording != "" {
		opts = append(opts, falcotest.WithReplay(recording))
	}
	img, err := falcotest.BuildStandin(ctx, version, opts...)
	if errors.Is(err, falcotest.ErrEngineUnreachable) {
		t.Skipf("no stand-in Falco image: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if standins.built == nil {
		standins.built = map[string]string{}
	}
	standins.built[key] = img
	return img
}

// victimImage returns the victim image, or skips the test when it is not
// built.
func victimImage(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok, err := victim.ImagePresent(ctx, victim.DefaultImage)
	if err != nil {
		t.Skipf("no victim image: %v", err)
	}
	if !ok {
		t.Skipf("victim image %q is not built: run `make victim-image`", victim.DefaultImage)
	}
	return victim.DefaultImage
}
