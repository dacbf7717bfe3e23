package falco

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
)

// fakeEngine refuses what a Docker 20.10 without CAP_SYS_RESOURCE in its
// bounding set refuses (common brief: --privileged fails with "unable to
// apply caps"; BPF and PERFMON are unknown names there).
type fakeEngine struct {
	unknown  []string // capability names it does not know
	refused  []string // capabilities missing from its bounding set
	attempts []privilegeAttempt
	other    error // a failure no privilege fixes
}

func (f *fakeEngine) start(_ context.Context, a privilegeAttempt) (*testcontainers.DockerContainer, error) {
	f.attempts = append(f.attempts, a)
	if f.other != nil {
		return nil, f.other
	}
	if a.privileged {
		return nil, errors.New("start container: Error response from daemon: failed to create shim task: OCI runtime create failed: unable to apply caps: operation not permitted: unknown")
	}
	for _, c := range a.caps {
		if slices.Contains(f.unknown, c) {
			return nil, fmt.Errorf(`create container: Error response from daemon: invalid CapAdd: unknown capability: "CAP_%s"`, c)
		}
	}
	for _, c := range a.caps {
		if slices.Contains(f.refused, c) {
			return nil, errors.New("start container: OCI runtime create failed: unable to apply caps: operation not permitted")
		}
	}
	return nil, nil
}

type logRecorder struct{ lines []string }

func (l *logRecorder) Printf(format string, v ...any) {
	l.lines = append(l.lines, fmt.Sprintf(format, v...))
}

func TestStartWithPrivilegesFallback(t *testing.T) {
	engine := &fakeEngine{unknown: []string{"BPF", "PERFMON"}, refused: []string{"SYS_RESOURCE"}}
	log := &logRecorder{}
	_, report, err := startWithPrivileges(context.Background(), "engine-1", PrivilegesAuto, engine.start, log)
	if err != nil {
		t.Fatal(err)
	}
	if report.Privileged || !slices.Equal(report.CapAdd, []string{"SYS_ADMIN", "SYS_PTRACE"}) ||
		!slices.Equal(report.Dropped, []string{"BPF", "PERFMON", "SYS_RESOURCE"}) || !strings.Contains(report.Refused, "unable to apply caps") {
		t.Errorf("report = %+v", report)
	}
	if len(engine.attempts) != 5 || !engine.attempts[0].privileged {
		t.Errorf("attempts = %+v", engine.attempts)
	}
	if s := report.String(); s != "capabilities SYS_ADMIN, SYS_PTRACE (refused by the engine: BPF, PERFMON, SYS_RESOURCE)" {
		t.Errorf("String() = %q", s)
	}
	if len(log.lines) != 2 || !strings.Contains(log.lines[0], "refused --privileged") || !strings.Contains(log.lines[1], "the engine refused BPF, PERFMON, SYS_RESOURCE") {
		t.Errorf("log = %q", log.lines)
	}

	// The next Falco on that engine starts at the first try.
	again := &fakeEngine{unknown: engine.unknown, refused: engine.refused}
	_, report2, err := startWithPrivileges(context.Background(), "engine-1", PrivilegesAuto, again.start, log)
	if err != nil || len(again.attempts) != 1 || !reflect.DeepEqual(report2, report) {
		t.Errorf("second start: %d attempts, report %+v, %v", len(again.attempts), report2, err)
	}
	// An engine that changed its mind is negotiated with again.
	stricter := &fakeEngine{unknown: engine.unknown, refused: []string{"SYS_RESOURCE", "SYS_ADMIN"}}
	if _, _, err := startWithPrivileges(context.Background(), "engine-1", PrivilegesAuto, stricter.start, log); err == nil || len(stricter.attempts) != 6 {
		t.Errorf("stricter engine: %d attempts, %v", len(stricter.attempts), err)
	}
}

func TestStartWithPrivilegesModes(t *testing.T) {
	t.Run("privileged accepted", func(t *testing.T) {
		var attempts []privilegeAttempt
		ok := func(_ context.Context, a privilegeAttempt) (*testcontainers.DockerContainer, error) {
			attempts = append(attempts, a)
			return nil, nil
		}
		_, report, err := startWithPrivileges(context.Background(), "engine-2", PrivilegesAuto, ok, &logRecorder{})
		if err != nil || !report.Privileged || len(attempts) != 1 || report.String() != "privileged" {
			t.Errorf("report %+v, err %v, attempts %d", report, err, len(attempts))
		}
	})
	t.Run("privileged demanded and refused", func(t *testing.T) {
		engine := &fakeEngine{}
		_, _, err := startWithPrivileges(context.Background(), "engine-3", PrivilegesPrivileged, engine.start, &logRecorder{})
		if err == nil || !strings.Contains(err.Error(), "start falco --privileged") || len(engine.attempts) != 1 {
			t.Errorf("err %v, attempts %d", err, len(engine.attempts))
		}
	})
	t.Run("capabilities never asks for privileged", func(t *testing.T) {
		engine := &fakeEngine{}
		_, report, err := startWithPrivileges(context.Background(), "engine-4", PrivilegesCapabilities, engine.start, &logRecorder{})
		if err != nil || report.Privileged || len(report.CapAdd) != 5 || engine.attempts[0].privileged {
			t.Errorf("report %+v, err %v", report, err)
		}
	})
	t.Run("a failure no privilege fixes stops at once", func(t *testing.T) {
		engine := &fakeEngine{other: errors.New(`create container: No such image: falco:absent`)}
		_, _, err := startWithPrivileges(context.Background(), "engine-5", PrivilegesAuto, engine.start, &logRecorder{})
		if err == nil || !strings.Contains(err.Error(), "No such image") || len(engine.attempts) != 1 {
			t.Errorf("err %v, attempts %d", err, len(engine.attempts))
		}
	})
	t.Run("even the minimal set refused", func(t *testing.T) {
		engine := &fakeEngine{refused: []string{"SYS_PTRACE"}}
		_, _, err := startWithPrivileges(context.Background(), "engine-6", PrivilegesCapabilities, engine.start, &logRecorder{})
		if err == nil || !strings.Contains(err.Error(), "refused even the minimal capabilities SYS_ADMIN, SYS_PTRACE") {
			t.Errorf("err %v", err)
		}
	})
}

func TestPrivilegeAttemptApply(t *testing.T) {
	hc := &container.HostConfig{CapAdd: []string{"stale"}}
	privilegeAttempt{caps: []string{"SYS_ADMIN"}}.apply(hc)
	if hc.Privileged || !slices.Equal(hc.CapAdd, []string{"SYS_ADMIN"}) {
		t.Errorf("caps attempt: %+v", hc)
	}
	privilegeAttempt{privileged: true}.apply(hc)
	if !hc.Privileged || len(hc.CapAdd) != 0 {
		t.Errorf("privileged attempt: %+v", hc)
	}
}
