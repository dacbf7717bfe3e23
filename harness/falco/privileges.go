package falco

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
)

// Capabilities a modern_ebpf Falco wants (fixtures/falco/FACTS.md "Starting Falco in a
// container"): SYS_ADMIN (covers BPF and PERFMON on engines that do not
// know those names, such as Docker 20.10) and SYS_PTRACE are required;
// SYS_RESOURCE lets libpman raise the memlock limit; BPF and PERFMON are
// the narrower modern names.
var (
	requiredCaps = []string{"SYS_ADMIN", "SYS_PTRACE"}
	// optionalCaps, in the order they are given up when the engine refuses
	// a set without naming the culprit.
	optionalCaps = []string{"BPF", "PERFMON", "SYS_RESOURCE"}
)

// PrivilegeReport says how the Falco container was finally started.
type PrivilegeReport struct {
	Privileged bool
	CapAdd     []string // capabilities added (when not privileged)
	Dropped    []string // capabilities asked for that the engine refused
	// Refused is why --privileged was refused under auto ("" when it was
	// accepted or not tried).
	Refused string
}

func (p PrivilegeReport) String() string {
	if p.Privileged {
		return "privileged"
	}
	s := "capabilities " + strings.Join(p.CapAdd, ", ")
	if len(p.Dropped) > 0 {
		s += " (refused by the engine: " + strings.Join(p.Dropped, ", ") + ")"
	}
	return s
}

// privilegeAttempt is one way of starting the container.
type privilegeAttempt struct {
	privileged bool
	caps       []string
}

func (a privilegeAttempt) apply(hc *container.HostConfig) {
	hc.Privileged = a.privileged
	hc.CapAdd = nil
	if !a.privileged {
		hc.CapAdd = append(hc.CapAdd, a.caps...)
	}
}

// unknownCapRE finds the capability an engine names when it does not know
// it (Docker: `invalid CapAdd: unknown capability: "CAP_BPF"`).
var unknownCapRE = regexp.MustCompile(`unknown capability:? "?(?:CAP_)?([A-Z_]+)"?`)

// privilegeRefusal reports whether a start error is about privileges (so
// a narrower attempt may work) rather than something no privilege fixes.
func privilegeRefusal(err error) bool {
	s := strings.ToLower(err.Error())
	for _, hint := range []string{"cap", "privileged", "operation not permitted"} {
		if strings.Contains(s, hint) {
			return true
		}
	}
	return false
}

// startFunc creates and starts the container with one attempt's privileges;
// it returns the container, if one was created, with the error.
type startFunc func(ctx context.Context, a privilegeAttempt) (*testcontainers.DockerContainer, error)

// accepted remembers, per engine and mode, the attempt an engine accepted
// and its report, so later Falcos of the process start at the first try.
var accepted sync.Map // acceptedKey → acceptedStart

type acceptedKey struct {
	engine string
	mode   Privileges
}

type acceptedStart struct {
	attempt privilegeAttempt
	report  PrivilegeReport
}

// startWithPrivileges starts the container the way mode asks: auto tries
// --privileged, then capability sets that shrink as the engine refuses
// them. Refused attempts' containers are removed. What engine accepted is
// tried first next time.
func startWithPrivileges(ctx context.Context, engine string, mode Privileges, start startFunc, logger Logger) (*testcontainers.DockerContainer, PrivilegeReport, error) {
	discard := func(ctr *testcontainers.DockerContainer) {
		if ctr != nil {
			_ = ctr.Terminate(context.WithoutCancel(ctx))
		}
	}
	key := acceptedKey{engine, mode}
	if v, ok := accepted.Load(key); ok {
		prev := v.(acceptedStart)
		ctr, err := start(ctx, prev.attempt)
		if err == nil || !privilegeRefusal(err) {
			return ctr, prev.report, err
		}
		discard(ctr)
		accepted.Delete(key)
	}
	ctr, report, attempt, err := negotiatePrivileges(ctx, mode, start, logger, discard)
	if err == nil {
		accepted.Store(key, acceptedStart{attempt, report})
	}
	return ctr, report, err
}

func negotiatePrivileges(ctx context.Context, mode Privileges, start startFunc, logger Logger, discard func(*testcontainers.DockerContainer)) (*testcontainers.DockerContainer, PrivilegeReport, privilegeAttempt, error) {
	var report PrivilegeReport
	if mode == PrivilegesAuto || mode == PrivilegesPrivileged {
		attempt := privilegeAttempt{privileged: true}
		ctr, err := start(ctx, attempt)
		if err == nil {
			report.Privileged = true
			return ctr, report, attempt, nil
		}
		if mode == PrivilegesPrivileged || !privilegeRefusal(err) {
			return ctr, report, attempt, fmt.Errorf("start falco --privileged: %w", err)
		}
		discard(ctr)
		if ctx.Err() != nil {
			return nil, report, attempt, fmt.Errorf("start falco: %w", context.Cause(ctx))
		}
		report.Refused = lastLine(err.Error())
		logger.Printf("falco: the engine refused --privileged (%s); falling back to capabilities", report.Refused)
	}
	caps := append(slices.Clone(requiredCaps), optionalCaps...)
	var lastErr error
	for {
		attempt := privilegeAttempt{caps: caps}
		ctr, err := start(ctx, attempt)
		if err == nil {
			report.CapAdd = caps
			if len(report.Dropped) > 0 {
				logger.Printf("falco: running with capabilities %s; the engine refused %s",
					strings.Join(caps, ", "), strings.Join(report.Dropped, ", "))
			}
			return ctr, report, attempt, nil
		}
		lastErr = err
		if !privilegeRefusal(err) {
			return ctr, report, attempt, fmt.Errorf("start falco with capabilities %s: %w", strings.Join(caps, ", "), err)
		}
		discard(ctr)
		drop := ""
		if m := unknownCapRE.FindStringSubmatch(err.Error()); m != nil && slices.Contains(caps, m[1]) && !slices.Contains(requiredCaps, m[1]) {
			drop = m[1]
		} else {
			for _, c := range optionalCaps {
				if slices.Contains(caps, c) {
					drop = c
					break
				}
			}
		}
		if drop == "" {
			break
		}
		if ctx.Err() != nil {
			// Cancelled between attempts: say so, not that the engine refused the rest.
			return nil, report, attempt, fmt.Errorf("start falco: %w", context.Cause(ctx))
		}
		caps = slices.DeleteFunc(caps, func(c string) bool { return c == drop })
		report.Dropped = append(report.Dropped, drop)
	}
	return nil, report, privilegeAttempt{}, errors.Join(
		fmt.Errorf("start falco: the engine refused even the minimal capabilities %s", strings.Join(requiredCaps, ", ")),
		lastErr)
}
