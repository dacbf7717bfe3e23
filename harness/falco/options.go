package falco

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/attack-replay/attack-replay/harness/linux"
)

// Privileges says how the Falco container gets the rights its driver needs.
type Privileges string

// Privilege modes.
const (
	// PrivilegesAuto tries --privileged and, when the engine refuses it,
	// falls back to the widest capability set it accepts (and logs which
	// were dropped).
	PrivilegesAuto Privileges = "auto"
	// PrivilegesPrivileged runs --privileged or fails.
	PrivilegesPrivileged Privileges = "privileged"
	// PrivilegesCapabilities never asks for --privileged.
	PrivilegesCapabilities Privileges = "capabilities"
)

// Defaults of Run.
const (
	DefaultStartupTimeout = 60 * time.Second
	// readinessInterval is how often the marker is exec'd while waiting
	// for the canary (fixtures/falco/FACTS.md: ready after ~10 tries, 100 ms apart).
	readinessInterval = 100 * time.Millisecond
)

// Execer runs a command in a container; a testcontainers.Container is one.
type Execer interface {
	Exec(ctx context.Context, cmd []string, options ...tcexec.ProcessOption) (int, io.Reader, error)
}

// Logger receives the module's progress messages.
type Logger interface {
	Printf(format string, v ...any)
}

// Option configures Run.
type Option func(*settings)

// settings is what the options set; defaults first, then the options.
type settings struct {
	rules           []string // candidate rules files or directories
	extraRules      []string // loaded before the candidates
	imageRules      bool
	enableRules     []string
	enableTags      []string
	alsoEnable      []string
	extraHosts      []string
	engine          string
	transport       Transport
	grpcTCP         bool
	config          []ConfigValue
	privileges      Privileges
	startupTimeout  time.Duration
	logger          Logger
	healthPort      int // 0 auto, < 0 disabled
	containerFields *bool
	runID           string
	markerExec      Execer
	markerCmd       []string
	customizers     []testcontainers.ContainerCustomizer
}

func defaultSettings() settings {
	return settings{
		engine:         DefaultEngine,
		transport:      TransportAuto,
		privileges:     PrivilegesAuto,
		startupTimeout: DefaultStartupTimeout,
		logger:         tclog.Default(),
	}
}

// WithRules adds candidate rules files or directories (a directory gives
// its *.yaml and *.yml files in name order). They load after the image's
// rules and WithExtraRules, in the order given.
func WithRules(paths ...string) Option {
	return func(s *settings) { s.rules = append(s.rules, paths...) }
}

// WithExtraRules adds rules files or directories loaded before the
// candidates, for their macros and lists.
func WithExtraRules(paths ...string) Option {
	return func(s *settings) { s.extraRules = append(s.extraRules, paths...) }
}

// WithImageRules loads the image's own /etc/falco/falco_rules.yaml first,
// for its macros and lists. Its rules are then disabled, except those
// enabled by WithEnabledRules or WithEnabledTags; with neither, the rules
// the candidate files define are enabled.
func WithImageRules(load bool) Option {
	return func(s *settings) { s.imageRules = load }
}

// WithEnabledRules enables only the named rules (Falco wildcard patterns)
// plus the barrier: every other loaded rule is disabled.
func WithEnabledRules(names ...string) Option {
	return func(s *settings) { s.enableRules = append(s.enableRules, names...) }
}

// WithEnabledTags enables only the rules carrying one of tags (plus the
// barrier and WithEnabledRules): every other loaded rule is disabled.
func WithEnabledTags(tags ...string) Option {
	return func(s *settings) { s.enableTags = append(s.enableTags, tags...) }
}

// WithAlsoEnabledRules enables the named rules too, beside what the other
// options enable: rules outside the candidates that scenarios expect or
// forbid, so that Falco raises them. It matters only where a rules
// selection disables rules (WithImageRules, WithEnabledRules,
// WithEnabledTags); without one every loaded rule runs anyway.
func WithAlsoEnabledRules(names ...string) Option {
	return func(s *settings) { s.alsoEnable = append(s.alsoEnable, names...) }
}

// WithExtraHosts adds /etc/hosts entries to the Falco container, "name:ip"
// each (docker run --add-host): names Falco resolves while it loads rules,
// such as kubernetes.default.svc.cluster.local for "Contact K8S API Server
// From Container".
func WithExtraHosts(hosts ...string) Option {
	return func(s *settings) { s.extraHosts = append(s.extraHosts, hosts...) }
}

// WithEngine sets engine.kind (default modern_ebpf).
func WithEngine(kind string) Option {
	return func(s *settings) { s.engine = kind }
}

// WithTransport chooses how alerts travel (default auto: gRPC up to Falco
// 0.43, HTTP from 0.44).
func WithTransport(t Transport) Option {
	return func(s *settings) { s.transport = t }
}

// WithGRPCOverTCP serves gRPC over TCP with throw-away mutual-TLS
// certificates instead of the default unix socket.
func WithGRPCOverTCP() Option {
	return func(s *settings) { s.grpcTCP = true }
}

// WithConfig sets an extra Falco configuration key in the drop-in, after
// the harness's own (a dotted key addresses nested maps:
// "webserver.threadiness"). Keys the harness relies on can be overridden;
// the run may then not work.
func WithConfig(key string, value any) Option {
	return func(s *settings) { s.config = append(s.config, ConfigValue{Key: key, Value: value}) }
}

// WithPrivileges sets the privilege mode (default auto).
func WithPrivileges(p Privileges) Option {
	return func(s *settings) { s.privileges = p }
}

// WithStartupTimeout bounds the wait for Falco's readiness canary.
func WithStartupTimeout(d time.Duration) Option {
	return func(s *settings) { s.startupTimeout = d }
}

// WithLogger receives progress messages (default: testcontainers' logger).
func WithLogger(l Logger) Option {
	return func(s *settings) { s.logger = l }
}

// WithHealthPort sets the webserver's port (/healthz). 0 picks one: 8765,
// or a free host port when Falco shares the host's network (HTTP
// transport), so two Falcos do not collide. A negative port disables the
// webserver.
func WithHealthPort(port int) Option {
	return func(s *settings) { s.healthPort = port }
}

// WithContainerFields forces container.id and container.name into (true)
// or out of (false) every alert's fields. By default they are added where
// the Falco has them: built in up to 0.40, from the container plugin from
// 0.41 when the image loads it. A Falco without them refuses to start when
// asked for them.
func WithContainerFields(on bool) Option {
	return func(s *settings) { s.containerFields = &on }
}

// WithRunID sets the attack-replay.run label (default: generated).
func WithRunID(id string) Option {
	return func(s *settings) { s.runID = id }
}

// WithMarker runs the readiness marker with ex (a victim container, say)
// instead of in the Falco container itself; cmd must exec a real program
// (default /bin/true, or `falco --version` in images without it).
func WithMarker(ex Execer, cmd ...string) Option {
	return func(s *settings) { s.markerExec, s.markerCmd = ex, cmd }
}

// WithContainerCustomizers applies testcontainers customizers to the Falco
// container request after the module's own settings (extra environment,
// mounts, labels).
func WithContainerCustomizers(c ...testcontainers.ContainerCustomizer) Option {
	return func(s *settings) { s.customizers = append(s.customizers, c...) }
}

func (s *settings) validate() error {
	switch s.privileges {
	case PrivilegesAuto, PrivilegesPrivileged, PrivilegesCapabilities:
	default:
		return fmt.Errorf("privileges %q: use auto, privileged or capabilities", s.privileges)
	}
	switch s.transport {
	case TransportAuto, TransportGRPC, TransportHTTP:
	default:
		return fmt.Errorf("transport %q: use auto, grpc or http", s.transport)
	}
	if s.startupTimeout <= 0 {
		return fmt.Errorf("startup timeout %s: want a positive duration", s.startupTimeout)
	}
	if s.engine == "" {
		return fmt.Errorf("engine: want a kind such as %s", DefaultEngine)
	}
	if s.markerExec != nil && len(s.markerCmd) == 0 {
		return fmt.Errorf("marker: want a command to exec")
	}
	if s.grpcTCP && s.transport == TransportHTTP {
		return fmt.Errorf("gRPC over TCP asked with transport http")
	}
	for _, h := range s.extraHosts {
		if _, err := linux.ParseHostEntry(h); err != nil {
			return fmt.Errorf("extra hosts: %w (want %s)", err, linux.HostEntryForm)
		}
	}
	return nil
}
