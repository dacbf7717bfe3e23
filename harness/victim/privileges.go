package victim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/attack-replay/attack-replay/harness/linux"
)

// Privileges is how much of the host a victim may touch. Scenarios remount filesystems, load
// modules and change immutable flags, so the default is as much as the engine grants.
type Privileges string

// Requested modes are Auto, Privileged and Default; Capabilities is only ever the effective
// mode, the one Auto falls back to.
const (
	// PrivilegesAuto tries a privileged container and, where the engine refuses it, falls
	// back to PrivilegesCapabilities.
	PrivilegesAuto Privileges = "auto"
	// PrivilegesPrivileged is `docker run --privileged`; Run fails where the engine refuses.
	PrivilegesPrivileged Privileges = "privileged"
	// PrivilegesCapabilities is every capability the engine accepts, with seccomp, AppArmor,
	// SELinux labelling and the masked /proc and /sys paths unconfined.
	PrivilegesCapabilities Privileges = "capabilities"
	// PrivilegesDefault is a plain container: the engine's default capabilities and profiles.
	PrivilegesDefault Privileges = "default"
)

// ParsePrivileges reads a requested privilege mode (auto, privileged or default).
func ParsePrivileges(s string) (Privileges, error) {
	switch p := Privileges(strings.ToLower(strings.TrimSpace(s))); p {
	case PrivilegesAuto, PrivilegesPrivileged, PrivilegesDefault:
		return p, nil
	}
	return "", fmt.Errorf("parse privileges %q: want auto, privileged or default", s)
}

// capabilities are the Linux capabilities in kernel order, as Docker's CapAdd takes them.
var capabilities = linux.Capabilities()

// unconfined are the security options of PrivilegesCapabilities: the profiles --privileged
// lifts besides capabilities, devices and masked paths (unmaskPaths does those).
var unconfined = []string{"seccomp=unconfined", "apparmor=unconfined", "label=disable"}

// unmaskPaths is `--security-opt systempaths=unconfined`, which the docker CLI, not the
// engine, turns into empty (not absent) masked and read-only path lists.
func unmaskPaths(h *container.HostConfig) {
	h.MaskedPaths = []string{}
	h.ReadonlyPaths = []string{}
}

// engineGrant is what one engine allows, learned once per process.
type engineGrant struct {
	privileged bool     // the engine starts privileged containers
	accepted   []string // with privileged false: the widest capability set it accepts
	dropped    []string // capabilities it refuses (unknown names or outside its bounding set)
}

// grants caches engineGrant per engine address. Its lock is held while the first victim of an
// engine finds out, so parallel workers wait for one probe instead of each running their own.
var grants = struct {
	mu       sync.Mutex
	byEngine map[string]*engineGrant
}{byEngine: map[string]*engineGrant{}}

// probeRunner starts throw-away containers to learn which capability sets the engine accepts.
type probeRunner struct {
	cli    client.ContainerAPIClient
	image  string
	labels map[string]string
}

var unknownCapability = regexp.MustCompile(`unknown capability: "?(?:CAP_)?([A-Z_]+)"?`)

// widestCapabilities returns the largest set of capabilities the engine starts a container
// with, and the ones it refuses. Names the engine does not know (Docker 20.10 predates BPF,
// PERFMON and CHECKPOINT_RESTORE) fail at create and name themselves. Capabilities outside
// the runtime's bounding set fail only at start ("unable to apply caps") without saying
// which: the runtime's bounding set is read where the engine shows it, and otherwise found by
// splitting the set in halves, one container start per test.
func (p probeRunner) widestCapabilities(ctx context.Context) (accepted, dropped []string, err error) {
	known := slices.Clone(capabilities)
	for range capabilities {
		err := p.create(ctx, known)
		if err == nil {
			break
		}
		m := unknownCapability.FindStringSubmatch(err.Error())
		if m == nil || !slices.Contains(known, m[1]) {
			return nil, nil, fmt.Errorf("probe capabilities: %w", err)
		}
		known = slices.DeleteFunc(known, func(c string) bool { return c == m[1] })
		dropped = append(dropped, m[1])
	}

	if mask, ok := p.boundingSet(ctx); ok {
		var refused []string
		for i, c := range capabilities {
			if slices.Contains(known, c) && mask&(1<<i) == 0 {
				refused = append(refused, c)
			}
		}
		accepted := without(known, refused)
		ok, err := p.starts(ctx, accepted)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			return accepted, sortCapabilities(append(dropped, refused...)), nil
		}
		// Something besides the bounding set limits this runtime: find out the slow way.
	}

	ok, err := p.starts(ctx, known)
	if err != nil {
		return nil, nil, err
	}
	if ok {
		return known, sortCapabilities(dropped), nil
	}
	refused, err := p.bisect(ctx, known)
	if err != nil {
		return nil, nil, err
	}
	accepted = without(known, refused)
	// bisect assumes each capability is refused on its own; confirm the rest starts together.
	if ok, err := p.starts(ctx, accepted); err != nil || !ok {
		return nil, nil, cmp.Or(err, fmt.Errorf("probe capabilities: the engine refuses %s even without %s", strings.Join(accepted, ","), strings.Join(refused, ",")))
	}
	return accepted, sortCapabilities(append(dropped, refused...)), nil
}

// without returns set minus drop, as a new slice.
func without(set, drop []string) []string {
	return slices.DeleteFunc(slices.Clone(set), func(c string) bool { return slices.Contains(drop, c) })
}

// sortCapabilities orders names by capability number, the order the kernel and logs use.
func sortCapabilities(names []string) []string { return linux.SortCapabilities(names) }

// boundingSet reads the capability bounding set of the engine's runtime: a container in the
// engine host's PID namespace reads the status of its parent, the runtime shim, whose
// bounding set runc inherits and cannot exceed. ok is false where that is not possible (a
// host PID namespace refused, another runtime layout); the caller then bisects.
func (p probeRunner) boundingSet(ctx context.Context) (mask uint64, ok bool) {
	opts := p.options(&container.HostConfig{PidMode: "host", NetworkMode: "none"})
	opts.Config.Cmd = []string{"sh", "-c", `grep -E '^(Name|CapBnd):' /proc/$PPID/status`}
	id, err := p.createContainer(ctx, opts)
	if err != nil {
		return 0, false
	}
	defer func() { _ = p.remove(ctx, id) }()
	if _, err := p.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return 0, false
	}
	logs, err := p.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, Follow: true})
	if err != nil {
		return 0, false
	}
	defer logs.Close()
	var out strings.Builder
	if _, err := stdcopy.StdCopy(&out, io.Discard, logs); err != nil {
		return 0, false
	}
	var name, bnd string
	for line := range strings.Lines(out.String()) {
		k, v, _ := strings.Cut(line, ":")
		switch k {
		case "Name":
			name = strings.TrimSpace(v)
		case "CapBnd":
			bnd = strings.TrimSpace(v)
		}
	}
	// Only a shim's bounding set is the runtime's; any other parent means another layout.
	if !strings.Contains(name, "shim") {
		return 0, false
	}
	mask, err = strconv.ParseUint(bnd, 16, 64)
	return mask, err == nil
}

// bisect returns the members of set, which the engine refuses as a whole, that it refuses
// on their own. A half that starts is clean, so only failing halves are split further.
func (p probeRunner) bisect(ctx context.Context, set []string) ([]string, error) {
	if len(set) == 1 {
		return slices.Clone(set), nil
	}
	left, right := set[:len(set)/2], set[len(set)/2:]
	leftOK, err := p.starts(ctx, left)
	if err != nil {
		return nil, err
	}
	if leftOK {
		// The whole set failed and left is clean, so right holds the culprits.
		return p.bisect(ctx, right)
	}
	bad, err := p.bisect(ctx, left)
	if err != nil {
		return nil, err
	}
	rightOK, err := p.starts(ctx, right)
	if err != nil || rightOK {
		return bad, err
	}
	more, err := p.bisect(ctx, right)
	return append(bad, more...), err
}

// refusedAlone returns the capabilities of caps that the engine refuses on their own.
func (p probeRunner) refusedAlone(ctx context.Context, caps []string) []string {
	var out []string
	for _, c := range caps {
		if err := p.create(ctx, []string{c}); err != nil {
			if unknownCapability.MatchString(err.Error()) {
				out = append(out, c) // an unknown name fails at create
			}
			continue
		}
		if ok, err := p.starts(ctx, []string{c}); err == nil && !ok {
			out = append(out, c)
		}
	}
	return out
}

// hostConfig is a probe container's: no network, since the probe only needs the runtime to
// apply privileges, and skipping the veth pair makes each attempt cheaper.
func hostConfig(caps []string) *container.HostConfig {
	return &container.HostConfig{CapAdd: caps, NetworkMode: "none"}
}

// create creates and removes a probe container: the engine validates capability names here.
func (p probeRunner) create(ctx context.Context, caps []string) error {
	id, err := p.createContainer(ctx, p.options(hostConfig(caps)))
	if err != nil {
		return err
	}
	return p.remove(ctx, id)
}

// createContainer creates a probe container on an uncancelled context (see createTimeout), so
// that its id always reaches us, and removes it again when ctx ended meanwhile.
func (p probeRunner) createContainer(ctx context.Context, opts client.ContainerCreateOptions) (string, error) {
	cctx, cancel := uncancelled(ctx)
	defer cancel()
	res, err := p.cli.ContainerCreate(cctx, opts)
	if err != nil {
		return "", err
	}
	if ctx.Err() != nil {
		return "", errors.Join(ctx.Err(), p.remove(ctx, res.ID))
	}
	return res.ID, nil
}

// starts tells whether a container with caps starts.
func (p probeRunner) starts(ctx context.Context, caps []string) (bool, error) {
	return p.startsWith(ctx, hostConfig(caps))
}

// privilegedRefusal is the engine's refusal of a bare privileged container, "" when it
// starts.
func (p probeRunner) privilegedRefusal(ctx context.Context) (string, error) {
	h := hostConfig(nil)
	h.Privileged = true
	refusal, err := p.tryStart(ctx, h)
	if err != nil || refusal == nil {
		return "", err
	}
	return refusal.Error(), nil
}

// startsPrivileged tells whether a bare privileged container starts.
func (p probeRunner) startsPrivileged(ctx context.Context) (bool, error) {
	refusal, err := p.privilegedRefusal(ctx)
	return err == nil && refusal == "", err
}

// startsWith tells whether a container with h starts.
func (p probeRunner) startsWith(ctx context.Context, h *container.HostConfig) (bool, error) {
	refusal, err := p.tryStart(ctx, h)
	return err == nil && refusal == nil, err
}

// tryStart creates, starts and removes a container with h, and returns the engine's refusal
// to start it. Refusals are answers, not errors; only a context end or an unusable engine is
// an error.
func (p probeRunner) tryStart(ctx context.Context, h *container.HostConfig) (refusal, err error) {
	id, err := p.createContainer(ctx, p.options(h))
	if err != nil {
		return nil, fmt.Errorf("probe capabilities: %w", err)
	}
	_, startErr := p.cli.ContainerStart(ctx, id, client.ContainerStartOptions{})
	if err := p.remove(ctx, id); err != nil {
		return nil, err
	}
	if startErr != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("probe capabilities: %w", ctx.Err())
	}
	return startErr, nil
}

func (p probeRunner) options(h *container.HostConfig) client.ContainerCreateOptions {
	return client.ContainerCreateOptions{
		Config:     &container.Config{Image: p.image, Cmd: []string{"true"}, Labels: p.labels},
		HostConfig: h,
	}
}

func (p probeRunner) remove(ctx context.Context, id string) error {
	_, err := p.cli.ContainerRemove(context.WithoutCancel(ctx), id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove probe container %s: %w", id[:12], err)
	}
	return nil
}

// logFallback says once per engine what a victim runs without, so a reader of the run's log
// knows which syscalls a scenario may find refused.
func logFallback(logger *slog.Logger, engine string, privilegedErr error, g *engineGrant, took time.Duration) {
	logger.Warn("victim: the engine refuses privileged containers; victims run with every capability it accepts, seccomp and AppArmor unconfined",
		"engine", engine,
		"dropped_capabilities", strings.Join(g.dropped, ","),
		"note", "names unknown to an engine (Docker 20.10: BPF, PERFMON, CHECKPOINT_RESTORE) are dropped too; SYS_ADMIN covers BPF and PERFMON there",
		"privileged_error", privilegedErr.Error(),
		"probe_duration", took.Round(time.Millisecond),
	)
}
