package victim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// removeTimeout bounds Terminate, which runs on a context of its own (see Terminate).
const removeTimeout = 30 * time.Second

// createTimeout bounds a container create (and a victim's start), which runs on a context the
// caller's cancellation does not cut short: the engine finishes a create it was sent even
// when the client stops waiting, and a container whose id never reached us would outlive the
// run. A cancellation is honoured as soon as the create returns.
const createTimeout = 60 * time.Second

// uncancelled is ctx without its cancellation or deadline, bounded by createTimeout.
func uncancelled(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), createTimeout)
}

// Container is a running victim.
type Container struct {
	*testcontainers.DockerContainer

	cli        client.ExecAPIClient
	privileges Privileges
	dropped    []string
	terminated atomic.Bool
}

// Run starts a victim from img ("" means ImageFromEnv()). It applies the victim defaults, then
// opts in order: victim Options and any testcontainers.ContainerCustomizer. Like testcontainers'
// modules it returns the container even with an error when one was created, so the caller
// can always Terminate what it got; register that right after Run.
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	if img == "" {
		img = ImageFromEnv()
	}
	settings := defaultOptions()
	for _, opt := range opts {
		if apply, ok := opt.(Option); ok {
			apply(&settings)
		}
	}
	if err := errors.Join(settings.errs...); err != nil {
		return nil, fmt.Errorf("run victim: %w", err)
	}
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("run victim: %w", err)
	}
	present, err := imagePresent(ctx, cli, img)
	if err != nil {
		return nil, fmt.Errorf("run victim: %w", err)
	}
	if !present {
		return nil, fmt.Errorf("run victim: %w", missingImageError(img))
	}

	instance := randomHex(8)
	s := starter{cli: cli, image: img, settings: settings, userOpts: opts, labels: map[string]string{
		LabelProject:  "1",
		LabelRole:     RoleVictim,
		LabelInstance: instance,
	}}
	for k, v := range settings.labels {
		s.labels[k] = v
	}
	if settings.runID != "" {
		s.labels[LabelRun] = settings.runID
	}
	if settings.scenario != "" {
		s.labels[LabelScenario] = settings.scenario
	}
	s.name = settings.name
	if s.name == "" {
		s.name = defaultName(settings.scenario, instance)
	}

	c, err := s.run(ctx)
	if err != nil {
		if c == nil {
			// The engine may have created a container whose id never reached us (a create
			// cut short by the context): remove it by its instance label.
			_, _ = sweep(context.WithoutCancel(ctx), cli, map[string]string{LabelInstance: instance})
		}
		return c, fmt.Errorf("run victim: %w", err)
	}
	return c, nil
}

// starter creates victims for one Run call.
type starter struct {
	cli      *testcontainers.DockerClient
	image    string
	name     string
	labels   map[string]string
	settings options
	userOpts []testcontainers.ContainerCustomizer
}

// run starts the victim with the requested privileges; PrivilegesAuto learns once per engine
// whether privileged containers start, and otherwise which capabilities do.
func (s starter) run(ctx context.Context) (*Container, error) {
	if s.settings.privileges != PrivilegesAuto {
		return s.start(ctx, s.settings.privileges, nil)
	}
	engine := s.cli.DaemonHost()
	grants.mu.Lock()
	if g := grants.byEngine[engine]; g != nil {
		grants.mu.Unlock()
		return s.startGranted(ctx, g)
	}
	defer grants.mu.Unlock()

	probe := s.probe()
	var privilegedErr error
	if len(s.settings.capDrop) == 0 {
		// The victim itself is the first try: on an engine that grants privileged
		// containers, that costs nothing more.
		c, err := s.start(ctx, PrivilegesPrivileged, nil)
		if err == nil {
			grants.byEngine[engine] = &engineGrant{privileged: true}
			return c, nil
		}
		if ctx.Err() != nil {
			return c, err
		}
		privilegedErr = err
		if err := c.Terminate(ctx); err != nil {
			return nil, errors.Join(privilegedErr, err)
		}
		// A bare privileged container that starts means the victim failed for another
		// reason (its network, name or options): report that instead of caching a wrong
		// verdict.
		if ok, err := probe.startsPrivileged(ctx); err != nil || ok {
			return nil, errors.Join(privilegedErr, err)
		}
	} else {
		// A privileged start would ignore the drops (moby gives a privileged container
		// every capability, CapDrop or not), so a bare container asks the engine.
		ok, err := probe.startsPrivileged(ctx)
		if err != nil {
			return nil, err
		}
		if ok {
			g := &engineGrant{privileged: true}
			grants.byEngine[engine] = g
			return s.startGranted(ctx, g)
		}
		privilegedErr = errors.New("a bare privileged container does not start")
	}
	probeStart := time.Now()
	accepted, dropped, err := probe.widestCapabilities(ctx)
	if err != nil {
		return nil, errors.Join(privilegedErr, err)
	}
	g := &engineGrant{accepted: accepted, dropped: dropped}
	grants.byEngine[engine] = g
	logFallback(s.settings.logger, engine, privilegedErr, g, time.Since(probeStart))
	return s.startGranted(ctx, g)
}

// probe returns a prober labelled like the victim, so a sweep of the run finds its probes.
func (s starter) probe() probeRunner {
	p := probeRunner{cli: s.cli, image: s.image, labels: map[string]string{
		LabelProject:  "1",
		LabelRole:     roleProbe,
		LabelInstance: s.labels[LabelInstance],
	}}
	if s.settings.runID != "" {
		p.labels[LabelRun] = s.settings.runID
	}
	return p
}

// startGranted starts a PrivilegesAuto victim with what the engine grants.
func (s starter) startGranted(ctx context.Context, g *engineGrant) (*Container, error) {
	if g.privileged {
		return s.start(ctx, PrivilegesPrivileged, g)
	}
	return s.start(ctx, PrivilegesCapabilities, g)
}

// start creates and starts one victim container in the given effective mode; g is what the
// engine grants (PrivilegesCapabilities needs it).
func (s starter) start(ctx context.Context, mode Privileges, g *engineGrant) (*Container, error) {
	add, drop := s.settings.caps, s.settings.capDrop
	if mode == PrivilegesPrivileged && len(drop) > 0 {
		// Every capability but the dropped ones: --privileged would ignore CapDrop.
		mode = PrivilegesCapabilities
		g = &engineGrant{accepted: []string{"ALL"}}
	}
	var dropped []string
	if mode == PrivilegesCapabilities {
		dropped = g.dropped
		if refused := intersect(add, g.dropped); len(refused) > 0 {
			return nil, refusedError(refused)
		}
	}
	hostConfig := func(h *container.HostConfig) {
		// An init as PID 1 reaps orphans and dies with the container at once; `sleep` as PID 1
		// would ignore SIGTERM and cost the engine's 10 s stop timeout.
		h.Init = new(true)
		// Nothing reads a victim's logs (an exec's output comes over its own stream), so the
		// engine keeps none instead of a json-file log per victim.
		h.LogConfig = container.LogConfig{Type: "none"}
		if s.settings.network != "" {
			h.NetworkMode = container.NetworkMode(s.settings.network)
		}
		h.ReadonlyRootfs = s.settings.readOnly
		h.ExtraHosts = append(h.ExtraHosts, s.settings.extraHosts...)
		switch mode {
		case PrivilegesPrivileged:
			h.Privileged = true
		case PrivilegesCapabilities:
			h.CapAdd = append(h.CapAdd, without(g.accepted, drop)...)
			for _, c := range without(add, drop) {
				if !slices.Contains(h.CapAdd, c) && !slices.Contains(h.CapAdd, "ALL") {
					h.CapAdd = append(h.CapAdd, c)
				}
			}
			h.CapDrop = append(h.CapDrop, drop...)
			h.SecurityOpt = append(h.SecurityOpt, unconfined...)
			unmaskPaths(h)
		default:
			h.CapAdd = append(h.CapAdd, add...)
			h.CapDrop = append(h.CapDrop, drop...)
		}
	}
	customizers := []testcontainers.ContainerCustomizer{
		// The image's CMD is the same, but a custom VICTIM_IMAGE may have another one.
		testcontainers.WithCmd("sleep", "infinity"),
		testcontainers.WithLabels(s.labels),
		testcontainers.WithName(s.name),
		// The stop signal is SIGKILL so Terminate needs no grace period.
		testcontainers.WithConfigModifier(func(c *container.Config) { c.StopSignal = "SIGKILL" }),
		testcontainers.WithHostConfigModifier(hostConfig),
	}
	if len(s.settings.env) > 0 {
		customizers = append(customizers, testcontainers.WithEnv(s.settings.env))
	}
	customizers = append(customizers, s.userOpts...)

	runCtx, cancel := uncancelled(ctx)
	defer cancel()
	ctr, err := testcontainers.Run(runCtx, s.image, customizers...)
	if ctr == nil {
		return nil, err
	}
	c := &Container{DockerContainer: ctr, cli: s.cli, privileges: mode, dropped: slices.Clone(dropped)}
	if err == nil && ctx.Err() != nil {
		// Cancelled while the engine started it: the caller gets it back to Terminate.
		return c, fmt.Errorf("start %s container: %w", mode, context.Cause(ctx))
	}
	if err != nil {
		if mode == PrivilegesDefault && len(add) > 0 && ctx.Err() == nil {
			// Name what the engine refuses: each added capability on its own.
			if refused := s.probe().refusedAlone(ctx, add); len(refused) > 0 {
				return c, errors.Join(refusedError(refused), err)
			}
		}
		return c, fmt.Errorf("start %s container: %w", mode, err)
	}
	return c, nil
}

// ErrRefused means the engine refuses what a victim asks for (a capability outside its
// runtime's bounding set, a name it does not know).
var ErrRefused = errors.New("the engine refuses what the victim asks for")

func refusedError(caps []string) error {
	return fmt.Errorf("%w: capabilit%s %s (outside the bounding set of its runtime, or unknown to it): drop %s from the victim's capabilities, or run on an engine that grants %s",
		ErrRefused, plural(len(caps), "y", "ies"), strings.Join(caps, ", "), plural(len(caps), "it", "them"), plural(len(caps), "it", "them"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// intersect returns the members of a that are in b, in a's order.
func intersect(a, b []string) []string {
	return slices.DeleteFunc(slices.Clone(a), func(c string) bool { return !slices.Contains(b, c) })
}

// ID is the container's full 64-character id.
func (c *Container) ID() string { return c.GetContainerID() }

// ShortID is the 12-character id Falco prints in container.id.
func (c *Container) ShortID() string {
	id := c.ID()
	return id[:min(12, len(id))]
}

// Privileges is the effective mode: PrivilegesPrivileged, PrivilegesCapabilities or
// PrivilegesDefault.
func (c *Container) Privileges() Privileges { return c.privileges }

// DroppedCapabilities are the capabilities a PrivilegesCapabilities victim lacks because the
// engine refuses them (e.g. SYS_RESOURCE outside its bounding set, BPF unknown to Docker 20.10).
func (c *Container) DroppedCapabilities() []string { return slices.Clone(c.dropped) }

// Terminate kills the victim (SIGKILL, no grace) and removes it with its volumes. It runs on
// a context detached from ctx's cancellation, bounded by its own timeout, because it is the
// cleanup of a cancelled run too: a Ctrl-C must still remove the victim. Calling it again, or
// on a nil Container, does nothing.
func (c *Container) Terminate(ctx context.Context) error {
	if c == nil || c.DockerContainer == nil || c.terminated.Swap(true) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
	defer cancel()
	if err := c.DockerContainer.Terminate(ctx, testcontainers.StopTimeout(0)); err != nil {
		return fmt.Errorf("terminate victim %s: %w", c.ShortID(), err)
	}
	return nil
}

func defaultName(scenario, instance string) string {
	if scenario == "" {
		return "attack-replay-victim-" + instance
	}
	safe := nameUnsafe.ReplaceAllString(scenario, "-")
	return "attack-replay-" + safe[:min(40, len(safe))] + "-" + instance
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}
