package falco

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	tcexec "github.com/testcontainers/testcontainers-go/exec"

	"github.com/attack-replay/attack-replay/harness/falco/falcotest"
)

// The stand-in images (falcotest): internal/standin installed as
// /usr/bin/falco in a scratch image. No /bin/true: the readiness marker
// falls back to `falco --version`.
var standin struct {
	once   sync.Once
	err    error
	images map[string]string // version → tag
}

// standinImage builds the stand-in images once per test binary, or skips
// the test when Docker is unreachable.
func standinImage(t testing.TB, version string) string {
	t.Helper()
	standin.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		standin.images = map[string]string{}
		for _, v := range []string{"0.43.1", "0.44.1"} {
			img, err := falcotest.BuildStandin(ctx, v)
			if err != nil {
				standin.err = err
				return
			}
			standin.images[v] = img
		}
	})
	if standin.err != nil {
		if errors.Is(standin.err, falcotest.ErrEngineUnreachable) {
			t.Skipf("stand-in image not built: %v", standin.err)
		}
		t.Fatalf("build stand-in image: %v", standin.err)
	}
	img, ok := standin.images[version]
	if !ok {
		t.Fatalf("no stand-in image for %s", version)
	}
	return img
}

// TestMain disables testcontainers' reaper unless the user chose otherwise:
// its image cannot be pulled where there is no registry, and the module
// removes every container it starts itself (the tests check it). It
// removes the stand-in images the tests built.
func TestMain(m *testing.M) {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	code := m.Run()
	for _, img := range standin.images {
		if err := falcotest.Remove(context.Background(), img); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// execIn runs cmd in ctr and fails the test unless it exits 0.
func execIn(t *testing.T, ctr Execer, env []string, cmd ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var opts []tcexec.ProcessOption
	if len(env) > 0 {
		opts = append(opts, tcexec.WithEnv(env))
	}
	code, out, err := ctr.Exec(ctx, cmd, opts...)
	if err != nil || code != 0 {
		var b []byte
		if out != nil {
			b, _ = io.ReadAll(out)
		}
		t.Fatalf("exec %q: code %d, %v: %s", cmd, code, err, b)
	}
}
