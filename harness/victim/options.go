package victim

import (
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/testcontainers/testcontainers-go"

	"github.com/attack-replay/attack-replay/harness/linux"
)

// options are the victim-specific settings; everything else goes to testcontainers as is.
type options struct {
	privileges Privileges
	runID      string
	scenario   string
	name       string
	labels     map[string]string
	env        map[string]string
	network    string
	caps       []string // added (WithCapabilities)
	capDrop    []string // dropped (WithoutCapabilities)
	readOnly   bool
	extraHosts []string
	logger     *slog.Logger
	errs       []error
}

func defaultOptions() options {
	return options{privileges: PrivilegesAuto, logger: slog.Default()}
}

// Option configures a victim. It is a testcontainers.ContainerCustomizer so victim options and
// generic testcontainers options mix in one Run call, as in testcontainers' own modules.
type Option func(*options)

// Customize implements testcontainers.ContainerCustomizer; victim options act through Run.
func (Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

// WithPrivileges sets the requested privilege mode (default PrivilegesAuto).
func WithPrivileges(p Privileges) Option {
	return func(o *options) {
		if p != PrivilegesAuto && p != PrivilegesPrivileged && p != PrivilegesDefault {
			o.errs = append(o.errs, fmt.Errorf("privileges %q: want auto, privileged or default", p))
			return
		}
		o.privileges = p
	}
}

// WithRunID labels the victim with the run it belongs to (LabelRun), which Sweep selects on.
func WithRunID(id string) Option {
	return func(o *options) { o.runID = id }
}

// WithScenario labels the victim with the scenario it serves (LabelScenario).
func WithScenario(id string) Option {
	return func(o *options) { o.scenario = id }
}

// WithName names the container. Without it a victim is named after its scenario plus a random
// suffix, so parallel and repeated runs never collide.
func WithName(name string) Option {
	return func(o *options) {
		if !containerName.MatchString(name) {
			o.errs = append(o.errs, fmt.Errorf("container name %q: want letters, digits, '_', '.' or '-', starting with a letter or digit", name))
			return
		}
		o.name = name
	}
}

// WithLabels adds labels. The attack-replay labels are the harness's own and cannot be set
// here; use WithRunID and WithScenario.
func WithLabels(labels map[string]string) Option {
	return func(o *options) {
		for k := range labels {
			if k == LabelProject || strings.HasPrefix(k, LabelProject+".") {
				o.errs = append(o.errs, fmt.Errorf("label %q: attack-replay labels are set by the harness (use WithRunID, WithScenario)", k))
			}
		}
		if o.labels == nil {
			o.labels = map[string]string{}
		}
		maps.Copy(o.labels, labels)
	}
}

// WithEnv adds environment variables to the container, so every exec sees them.
func WithEnv(env map[string]string) Option {
	return func(o *options) {
		if o.env == nil {
			o.env = map[string]string{}
		}
		maps.Copy(o.env, env)
	}
}

// WithNetworkMode sets the container's network mode ("bridge", "none", "host",
// "container:<id>" or a network name); the engine's default when unset.
func WithNetworkMode(mode string) Option {
	return func(o *options) { o.network = mode }
}

// WithCapabilities adds capabilities (e.g. "NET_ADMIN" or "CAP_NET_ADMIN") to the victim. They
// matter with PrivilegesDefault; the other modes already hold every capability granted, and
// Run fails, naming them, when the engine refuses one (ErrRefused).
func WithCapabilities(caps ...string) Option {
	return func(o *options) { o.caps = appendCapabilities(o, o.caps, caps) }
}

// WithoutCapabilities drops capabilities from the victim, whatever its privileges: a
// privileged victim then holds every other capability instead (the engine would ignore a drop
// next to --privileged), with the same unconfined profiles but without the host's devices.
func WithoutCapabilities(caps ...string) Option {
	return func(o *options) { o.capDrop = appendCapabilities(o, o.capDrop, caps) }
}

func appendCapabilities(o *options, to, caps []string) []string {
	for _, c := range caps {
		n, err := linux.ParseCapability(c)
		if err != nil {
			o.errs = append(o.errs, err)
			continue
		}
		if !slices.Contains(to, n) {
			to = append(to, n)
		}
	}
	return to
}

// WithReadOnlyRoot makes the victim's root filesystem read-only (docker run --read-only).
func WithReadOnlyRoot() Option {
	return func(o *options) { o.readOnly = true }
}

// WithExtraHosts adds /etc/hosts entries, "name:ip" each (docker run --add-host).
func WithExtraHosts(hosts ...string) Option {
	return func(o *options) {
		for _, h := range hosts {
			e, err := linux.ParseHostEntry(h)
			if err != nil {
				o.errs = append(o.errs, fmt.Errorf("%w (want %s)", err, linux.HostEntryForm))
				continue
			}
			o.extraHosts = append(o.extraHosts, e.String())
		}
	}
}

// WithLogger sets where the victim module reports what it decided on its own, such as the
// capabilities dropped when the engine refuses privileged containers (default slog.Default).
func WithLogger(logger *slog.Logger) Option {
	return func(o *options) {
		if logger != nil {
			o.logger = logger
		}
	}
}

var containerName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// nameUnsafe matches what a scenario id may hold but a container name may not.
var nameUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)
