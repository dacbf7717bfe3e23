package victim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// removeTimeout bounds Terminate, which runs on a context of its own (see Terminate).
const removeTimeout = 30 * time.Second

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
		return s.start(ctx, s.settings.privileges, nil, nil)
	}
	engine := s.cli.DaemonHost()
	grants.mu.Lock()
	if g := grants.byEngine[engine]; g != nil {
		grants.mu.Unlock()
		if g.privileged {
			return s.start(ctx, PrivilegesPrivileged, nil, nil)
		}
		return s.start(ctx, PrivilegesCapabilities, g.accepted, g.dropped)
	}
	defer grants.mu.Unlock()

	c, err := s.start(ctx, PrivilegesPrivileged, nil, nil)
	if err == nil {
		grants.byEngine[engine] = &engineGrant{privileged: true}
		return c, nil
	}
	if ctx.Err() != nil {
		return c, err
	}
	privilegedErr := err
	if err := c.Terminate(ctx); err != nil {
		return nil, errors.Join(privilegedErr, err)
	}
	probe := probeRunner{cli: s.cli, image: s.image, labels: map[string]string{
		LabelProject:  "1",
		LabelRole:     roleProbe,
		LabelInstance: s.labels[LabelInstance],
	}}
	if s.settings.runID != "" {
		probe.labels[LabelRun] = s.settings.runID
	}
	// A bare privileged container that starts means the victim failed for another reason
	// (its network, name or options): report that instead of caching a wrong verdict.
	if refusal, err := probe.privilegedRefusal(ctx); err != nil || refusal == "" {
		return nil, errors.Join(privilegedErr, err)
	}
	probeStart := time.Now()
	accepted, dropped, err := probe.widestCapabilities(ctx)
	if err != nil {
		return nil, errors.Join(privilegedErr, err)
	}
	g := &engineGrant{accepted: accepted, dropped: dropped}
	grants.byEngine[engine] = g
	logFallback(s.settings.logger, engine, privilegedErr, g, time.Since(probeStart))
	return s.start(ctx, PrivilegesCapabilities, accepted, dropped)
}

// start creates and starts one victim container in the given effective mode.
func (s starter) start(ctx context.Context, mode Privileges, accepted, dropped []string) (*Container, error) {
	extra := s.settings.caps
	hostConfig := func(h *container.HostConfig) {
		// An init as PID 1 reaps orphans and dies with the container at once; `sleep` as PID 1
		// would ignore SIGTERM and cost the engine's 10 s stop timeout.
		h.Init = new(true)
		if s.settings.network != "" {
			h.NetworkMode = container.NetworkMode(s.settings.network)
		}
		switch mode {
		case PrivilegesPrivileged:
			h.Privileged = true
		case PrivilegesCapabilities:
			h.CapAdd = append(h.CapAdd, accepted...)
			for _, c := range extra {
				if !slices.Contains(h.CapAdd, c) {
					h.CapAdd = append(h.CapAdd, c)
				}
			}
			h.SecurityOpt = append(h.SecurityOpt, unconfined...)
			unmaskPaths(h)
		default:
			h.CapAdd = append(h.CapAdd, extra...)
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

	ctr, err := testcontainers.Run(ctx, s.image, customizers...)
	if ctr == nil {
		return nil, err
	}
	c := &Container{DockerContainer: ctr, cli: s.cli, privileges: mode, dropped: slices.Clone(dropped)}
	if err != nil {
		return c, fmt.Errorf("start %s container: %w", mode, err)
	}
	return c, nil
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
