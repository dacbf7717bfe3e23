package victim_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/attack-replay/attack-replay/harness/victim"
)

func TestMain(m *testing.M) {
	// Ryuk, testcontainers' reaper, is an image that cannot be pulled where there is no
	// registry; the harness removes what it starts itself, which these tests prove.
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	os.Exit(m.Run())
}

// testTimeout bounds each test's own context; every wait below has this ceiling.
const testTimeout = 2 * time.Minute

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// requireImage stops the test when the victim image is missing. It fails rather than skips:
// `make test` builds the images first, so a missing image is a broken setup, not an option.
func requireImage(t testing.TB) string {
	t.Helper()
	return requireImageOf(t, victim.ImageFromEnv(), victim.ImageEnv)
}

// requireToolsImage is requireImage for the tools image.
func requireToolsImage(t testing.TB) string {
	t.Helper()
	return requireImageOf(t, victim.ToolsImageFromEnv(), victim.ToolsImageEnv)
}

func requireImageOf(t testing.TB, img, env string) string {
	t.Helper()
	ok, err := victim.ImagePresent(testContext(t), img)
	if err != nil {
		t.Fatalf("check victim image: %v", err)
	}
	if !ok {
		t.Fatalf("victim image %q is missing: run `make victim-images` (scripts/victim-image.sh) or set %s", img, env)
	}
	return img
}

// runID gives each test its own attack-replay.run label, so leak checks see only its victims.
func runID(t testing.TB) string {
	t.Helper()
	name := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return fmt.Sprintf("test-%s-%d", name, time.Now().UnixNano())
}

// quietLogger keeps testcontainers' per-container chatter in the test log, not on stderr.
func quietLogger(t testing.TB) testcontainers.ContainerCustomizer {
	return testcontainers.WithLogger(testLogger{t})
}

type testLogger struct{ t testing.TB }

func (l testLogger) Printf(format string, v ...any) {
	l.t.Helper()
	l.t.Logf(format, v...)
}

// testSlog sends the victim module's own log lines to the test log.
func testSlog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startVictim starts a victim for the test, registers its removal, and checks after the test
// that nothing with the test's run label is left on the engine.
func startVictim(t testing.TB, opts ...testcontainers.ContainerCustomizer) *victim.Container {
	t.Helper()
	return startVictimOf(t, requireImage(t), opts...)
}

// startVictimOf is startVictim from another image.
func startVictimOf(t testing.TB, img string, opts ...testcontainers.ContainerCustomizer) *victim.Container {
	t.Helper()
	run := runID(t)
	all := append([]testcontainers.ContainerCustomizer{
		victim.WithRunID(run), victim.WithLogger(testSlog(t)), quietLogger(t),
	}, opts...)
	c, err := victim.Run(testContext(t), img, all...)
	t.Cleanup(func() {
		if err := c.Terminate(context.Background()); err != nil {
			t.Errorf("terminate: %v", err)
		}
		assertNoContainers(t, map[string]string{victim.LabelRun: run})
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// assertNoContainers fails the test when the engine holds any attack-replay container with
// labels, running or not.
func assertNoContainers(t testing.TB, labels map[string]string) {
	t.Helper()
	ids, err := victim.Labelled(context.Background(), labels)
	if err != nil {
		t.Errorf("list containers labelled %v: %v", labels, err)
		return
	}
	if len(ids) > 0 {
		t.Errorf("containers labelled %v left on the engine: %v", labels, ids)
	}
}

// mustExec runs cmd in c and fails the test unless it exits 0.
func mustExec(t testing.TB, c *victim.Container, cmd ...string) string {
	t.Helper()
	res, err := c.Exec(testContext(t), victim.ExecRequest{Cmd: cmd, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("exec %q: %v", cmd, err)
	}
	if res.ExitCode != 0 {
		t.Fatalf("exec %q: exit %d\nstdout: %s\nstderr: %s", cmd, res.ExitCode, res.Stdout, res.Stderr)
	}
	return string(res.Stdout)
}
