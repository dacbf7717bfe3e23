package victim_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/attack-replay/attack-replay/harness/victim"
)

// Environment of the child half of TestNoLeak.
const (
	leakModeEnv = "VICTIM_LEAK_MODE"
	leakRunEnv  = "VICTIM_LEAK_RUN"
)

// TestNoLeak runs a test body that starts a victim in a child process, lets the body pass,
// fail or panic, and then asks the engine for containers with the child's run label: the
// cleanup registered right after Run must have removed the victim in every case.
func TestNoLeak(t *testing.T) {
	if os.Getenv(leakModeEnv) != "" {
		leakChild(t, os.Getenv(leakModeEnv), os.Getenv(leakRunEnv))
		return
	}
	t.Parallel()
	requireImage(t)
	for _, tc := range []struct {
		mode     string
		wantFail bool
		wantOut  string
	}{
		{"pass", false, "--- PASS"},
		{"fail", true, "deliberate failure after the step"},
		{"panic", true, "panic: deliberate panic in a step handler"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			run := runID(t)
			cmd := exec.CommandContext(testContext(t), os.Args[0], "-test.run=^TestNoLeak$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), leakModeEnv+"="+tc.mode, leakRunEnv+"="+run)
			out, err := cmd.CombinedOutput()
			var exitErr *exec.ExitError
			if failed := errors.As(err, &exitErr); failed != tc.wantFail || (err != nil && !failed) {
				t.Fatalf("child exit: %v, want failure %v\n%s", err, tc.wantFail, out)
			}
			// The child names the victim it started, so a child that never got one cannot pass.
			started := regexp.MustCompile(`victim [0-9a-f]{64} started`).Find(out)
			if started == nil || !regexp.MustCompile(regexp.QuoteMeta(tc.wantOut)).Match(out) {
				t.Fatalf("child output lacks the started victim or %q:\n%s", tc.wantOut, out)
			}
			assertNoContainers(t, map[string]string{victim.LabelRun: run})
		})
	}
}

func leakChild(t *testing.T, mode, run string) {
	ctx := testContext(t)
	// Default privileges spare each child process the privilege probe; cleanup does not
	// depend on them.
	c, err := victim.Run(ctx, "", victim.WithRunID(run), victim.WithPrivileges(victim.PrivilegesDefault), quietLogger(t))
	t.Cleanup(func() {
		if err := c.Terminate(context.Background()); err != nil {
			t.Errorf("terminate: %v", err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("victim %s started", c.ID())
	mustExec(t, c, "true")
	switch mode {
	case "fail":
		t.Fatal("deliberate failure after the step")
	case "panic":
		stepHandler := func() { panic("deliberate panic in a step handler") }
		stepHandler()
	}
}

// TestNoLeakOnCancel cancels the context while Run starts the container, and while a step
// runs: the victim is removed either way, by a Terminate that ignores the cancellation.
func TestNoLeakOnCancel(t *testing.T) {
	t.Parallel()
	img := requireImage(t)

	t.Run("during start", func(t *testing.T) {
		run := runID(t)
		ctx, cancel := context.WithCancel(testContext(t))
		defer cancel()
		created := false
		// Cancel right after the engine created the container, before it is started.
		hook := testcontainers.WithAdditionalLifecycleHooks(testcontainers.ContainerLifecycleHooks{
			PostCreates: []testcontainers.ContainerHook{func(context.Context, testcontainers.Container) error {
				created = true
				cancel()
				return nil
			}},
		})
		c, err := victim.Run(ctx, img, victim.WithRunID(run), victim.WithPrivileges(victim.PrivilegesDefault), hook, quietLogger(t))
		if !created {
			t.Fatalf("the create hook never ran: %v", err)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run error %v, want context.Canceled", err)
		}
		if err := c.Terminate(ctx); err != nil {
			t.Fatalf("terminate on a cancelled context: %v", err)
		}
		assertNoContainers(t, map[string]string{victim.LabelRun: run})
	})

	t.Run("during a step", func(t *testing.T) {
		run := runID(t)
		c, err := victim.Run(testContext(t), img, victim.WithRunID(run), quietLogger(t))
		if err != nil {
			_ = c.Terminate(context.Background())
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(testContext(t), time.Second)
		defer cancel()
		res, err := c.Exec(ctx, victim.ExecRequest{Cmd: []string{"sleep", "300"}})
		if !errors.Is(err, context.DeadlineExceeded) || res.ExitCode != -1 {
			t.Errorf("exec: exit %d, %v; want -1 and the context's deadline", res.ExitCode, err)
		}
		if err := c.Terminate(ctx); err != nil {
			t.Fatalf("terminate on an expired context: %v", err)
		}
		assertNoContainers(t, map[string]string{victim.LabelRun: run})
	})
}
