package falco

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/host"
)

// ErrTerminated is what hub waiters get once the container is terminated.
var ErrTerminated = errors.New("falco container terminated")

// Paths and names inside the Falco container.
const (
	// ConfigDropIn is the harness's config file: a single file in the
	// drop-in directory (a directory mounted there would hide the image's
	// own drop-ins, the container plugin's among them — fixtures/falco/FACTS.md). The
	// name sorts after the images' own drop-ins, so its keys win.
	ConfigDropIn   = ConfigDropInDir + "/zz-attack-replay.yaml"
	grpcCertsDir   = "/etc/falco/attack-replay-certs"
	hostProcMount  = "/host/proc"
	hostDockerSock = "/host/var/run/docker.sock"
)

// Timeouts of the container's own housekeeping.
const (
	logDrainTimeout  = 3 * time.Second  // last log lines after an exit
	stopTimeout      = 10 * time.Second // SIGTERM grace; Falco needs ~0.3 s
	logTailLines     = 1000
	terminateTimeout = 30 * time.Second
	// markerExecTimeout bounds one marker exec.
	markerExecTimeout = 10 * time.Second
)

// Container is a running Falco with the candidate rules loaded and one
// alert stream (gRPC subscription or HTTP receiver) feeding a hub.
type Container struct {
	*testcontainers.DockerContainer

	s         settings
	cli       *testcontainers.DockerClient
	version   Version
	transport Transport
	fields    bool
	priv      PrivilegeReport
	rules     ruleSet
	config    []byte
	hasTrue   bool   // the image has /bin/true for the marker
	sockDir   string // host directory mounted on /run/falco (gRPC over a unix socket)

	// hub is set once the alert source exists; the exit watcher may run
	// before that (see start and watch).
	hub      atomic.Pointer[alert.Hub]
	receiver *alert.HTTPReceiver
	tmpDirs  []string

	logs     *logBuffer
	logsDone chan struct{}
	exited   chan struct{} // closed when the container exited on its own
	exitErr  atomic.Pointer[ExitError]
	ready    atomic.Bool
	stopping atomic.Bool

	alertDrops   atomic.Int64 // drop alerts seen by the hub
	alertDropped atomic.Int64 // n_drops they reported

	runCtx    context.Context
	cancelRun context.CancelFunc
	wg        sync.WaitGroup
	termOnce  sync.Once
	termErr   error
}

// Run starts Falco from image with the rules and settings of opts, and
// returns once a canary alert proved that capture runs. When Falco exits
// during start, it returns at once with an *ExitError (wrapping a
// *RulesError when the rules did not load). When the image is absent and
// cannot be pulled, it fails within seconds with ErrImageUnavailable.
//
// The container is returned even with an error, once one was created:
// register its Terminate before checking the error.
func Run(ctx context.Context, image string, opts ...Option) (*Container, error) {
	s := defaultSettings()
	for _, o := range opts {
		o(&s)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("run falco: %w", err)
	}
	if s.runID == "" {
		s.runID = newID()
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("run falco: connect to docker: %w", err)
	}
	if err := checkImage(ctx, cli, image); err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("run falco: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c := &Container{
		s: s, cli: cli,
		logs: newLogBuffer(logTailLines), logsDone: make(chan struct{}), exited: make(chan struct{}),
		runCtx: runCtx, cancelRun: cancel,
	}
	if err := c.start(ctx, image); err != nil {
		if c.DockerContainer == nil {
			_ = c.Terminate(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("run falco: %w", err)
		}
		return c, fmt.Errorf("run falco: %w", err)
	}
	return c, nil
}

func newID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (c *Container) start(ctx context.Context, image string) error {
	facts, err := probeImage(ctx, c.cli, image, falcoLabels(c.s.runID))
	if err != nil {
		return err
	}
	params, err := c.configure(image, facts)
	if err != nil {
		return err
	}
	m, err := c.prepareTransport(&params)
	if err != nil {
		return err
	}
	if c.config, err = RenderConfig(params); err != nil {
		return err
	}
	if err := c.launch(ctx, image, m); err != nil {
		return err
	}
	c.wg.Add(2)
	go c.followLogs()
	go c.watch()

	src, err := c.connect(ctx, m)
	if err != nil {
		return err
	}
	hub := alert.NewHub(observedSource{src: src, observe: c.observe})
	c.hub.Store(hub)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		_ = hub.Run(c.runCtx)
	}()
	// An exit the watcher saw before the hub existed is passed on now
	// (the watcher stores the error, then loads the hub).
	if e := c.exitErr.Load(); e != nil {
		hub.Fail(e)
	}
	return c.waitReady(ctx)
}

// configure decides, from what the image holds and the options, the
// version-dependent settings and the rules to load.
func (c *Container) configure(image string, facts imageFacts) (ConfigParams, error) {
	s := &c.s
	if !facts.DropIns {
		return ConfigParams{}, fmt.Errorf("image %q: its falco.yaml does not read %s, where the harness puts its configuration", image, ConfigDropInDir)
	}
	if s.imageRules && !facts.ImageRules {
		return ConfigParams{}, fmt.Errorf("image %q has no %s to load (WithImageRules)", image, ImageRulesFile)
	}
	c.version, c.hasTrue = facts.Version, facts.HasTrue
	if !c.version.AtLeast(MinVersion.Major, MinVersion.Minor) {
		return ConfigParams{}, fmt.Errorf("image %q runs falco %s: the harness needs falco %s or newer (append_output, the rules selection)", image, c.version, MinVersion)
	}
	var err error
	if c.transport, err = ChooseTransport(s.transport, c.version); err != nil {
		return ConfigParams{}, err
	}
	if s.containerFields != nil {
		c.fields = *s.containerFields
	} else {
		c.fields = c.version.BuiltinContainerFields() || facts.ContainerPlugin
		if !c.fields {
			s.logger.Printf("falco: %s without its container plugin has no container.* fields: alerts are attributed by token only", c.version)
		}
	}
	if c.rules, err = buildRuleSet(*s, c.version); err != nil {
		return ConfigParams{}, err
	}
	return ConfigParams{
		Version: c.version, Engine: s.engine, Transport: c.transport,
		ContainerFields: c.fields, Rules: c.rules.selection, Extra: s.config,
	}, nil
}

// mounts is what the transport needs from the container.
type mounts struct {
	binds   []string
	exposed []string
	hostNet bool
	certs   alert.CertFiles // client side of gRPC over TCP
}

// prepareTransport sets up the harness's end of the transport (HTTP
// receiver, socket directory or certificates) and fills its part of p.
func (c *Container) prepareTransport(p *ConfigParams) (mounts, error) {
	var m mounts
	var err error
	switch {
	case c.transport == TransportHTTP:
		// http_output posts to the receiver on the host's loopback, which
		// Falco reaches through the host's network (fixtures/falco/FACTS.md).
		m.hostNet = true
		if c.receiver, err = alert.NewHTTPReceiver("127.0.0.1:0"); err != nil {
			return m, err
		}
		p.HTTPURL = c.receiver.URL()
	case c.s.grpcTCP:
		dir, err := c.tempDir("certs")
		if err != nil {
			return m, err
		}
		pki, err := alert.GenerateCerts("localhost", "127.0.0.1")
		if err != nil {
			return m, err
		}
		if m.certs, err = pki.WriteFiles(dir); err != nil {
			return m, err
		}
		m.binds = append(m.binds, dir+":"+grpcCertsDir+":ro")
		m.exposed = append(m.exposed, strconv.Itoa(GRPCPort)+"/tcp")
		p.GRPCAddress = "0.0.0.0:" + strconv.Itoa(GRPCPort)
		p.GRPCServerCert = grpcCertsDir + "/" + alert.ServerCertFile
		p.GRPCServerKey = grpcCertsDir + "/" + alert.ServerKeyFile
		p.GRPCCARoot = grpcCertsDir + "/" + alert.CAFile
	default:
		if c.sockDir, err = c.tempDir("run"); err != nil {
			return m, err
		}
		m.binds = append(m.binds, c.sockDir+":"+GRPCSocketDir)
		p.GRPCSocket = GRPCSocket
	}
	switch hp := c.s.healthPort; {
	case hp < 0:
	case hp > 0:
		p.HealthPort = hp
	case m.hostNet:
		// The webserver binds the host's loopback: a second Falco on
		// 8765 would fail to start (fixtures/falco/FACTS.md).
		if p.HealthPort, err = freePort(); err != nil {
			return m, err
		}
	default:
		p.HealthPort = DefaultHealthPort
	}
	return m, nil
}

// launch creates and starts the container as fixtures/falco/FACTS.md "Starting Falco in a
// container" says, with the privileges the engine accepts.
func (c *Container) launch(ctx context.Context, image string, m mounts) error {
	s := &c.s
	binds := append(slices.Clone(m.binds),
		"/proc:"+hostProcMount+":ro",
		testcontainers.MustExtractDockerSocket(ctx)+":"+hostDockerSock,
	)
	// Fresh readers for every attempt: a refused attempt consumed the last.
	files := func() []testcontainers.ContainerFile {
		files := []testcontainers.ContainerFile{{
			Reader: bytes.NewReader(c.config), ContainerFilePath: ConfigDropIn, FileMode: 0o644,
		}}
		for _, f := range c.rules.files {
			if f.data != nil {
				files = append(files, testcontainers.ContainerFile{
					Reader: bytes.NewReader(f.data), ContainerFilePath: f.container, FileMode: 0o644,
				})
			}
		}
		return files
	}
	args := append([]string{"-U", "-o", "watch_config_files=false"}, c.rules.args()...)
	attempt := func(ctx context.Context, a privilegeAttempt) (*testcontainers.DockerContainer, error) {
		customizers := []testcontainers.ContainerCustomizer{
			testcontainers.WithEntrypoint(falcoBinary),
			testcontainers.WithCmd(args...),
			testcontainers.WithEnv(map[string]string{"HOST_ROOT": "/host"}),
			testcontainers.WithLabels(falcoLabels(s.runID)),
			testcontainers.WithFiles(files()...),
			testcontainers.WithLogger(s.logger),
			testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
				a.apply(hc)
				hc.Binds = append(hc.Binds, binds...)
				hc.PidMode = "host"
				hc.ExtraHosts = append(hc.ExtraHosts, s.extraHosts...)
				hc.SecurityOpt = append(hc.SecurityOpt, "seccomp=unconfined", "apparmor=unconfined")
				if m.hostNet {
					hc.NetworkMode = "host"
				}
			}),
		}
		if len(m.exposed) > 0 {
			customizers = append(customizers, testcontainers.WithExposedPorts(m.exposed...))
		}
		customizers = append(customizers, s.customizers...)
		// The engine finishes a create the client stopped waiting for: on a cancelled ctx the
		// container would exist with no id to remove it by. Start uncancelled (bounded), then
		// report the cancellation with the container, which the caller terminates.
		runCtx, cancel := uncancelled(ctx)
		defer cancel()
		ctr, err := testcontainers.Run(runCtx, image, customizers...)
		if err == nil && ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		return ctr, err
	}
	s.logger.Printf("falco: starting %s (falco %s, transport %s, engine %s, %d rules files)",
		image, c.version, c.transport, s.engine, len(c.rules.files))
	ctr, priv, err := startWithPrivileges(ctx, c.cli.DaemonHost(), s.privileges, attempt, s.logger)
	c.DockerContainer, c.priv = ctr, priv
	return err
}

// connect returns the harness's end of the transport, once Falco's end
// exists.
func (c *Container) connect(ctx context.Context, m mounts) (alert.Source, error) {
	switch {
	case c.transport == TransportHTTP:
		return c.receiver, nil
	case c.s.grpcTCP:
		port, err := c.MappedPort(ctx, strconv.Itoa(GRPCPort)+"/tcp")
		if err != nil {
			return nil, err
		}
		// The engine is local (the harness bind-mounts host paths), so its
		// published port is on the host's loopback, a name in the server
		// certificate.
		return alert.NewGRPCSource(alert.GRPCConfig{
			Address:  net.JoinHostPort("127.0.0.1", port.Port()),
			CertFile: m.certs.ClientCert, KeyFile: m.certs.ClientKey, CARootFile: m.certs.CA,
		}), nil
	default:
		sock := filepath.Join(c.sockDir, filepath.Base(GRPCSocket))
		if err := c.waitForSocket(ctx, sock); err != nil {
			return nil, err
		}
		return alert.NewGRPCSource(alert.GRPCConfig{UnixSocket: sock}), nil
	}
}

// tempDir makes a host directory removed by Terminate.
func (c *Container) tempDir(purpose string) (string, error) {
	dir, err := os.MkdirTemp("", "attack-replay-falco-"+purpose+"-")
	if err != nil {
		return "", fmt.Errorf("make temporary directory: %w", err)
	}
	c.tmpDirs = append(c.tmpDirs, dir)
	return dir, nil
}

// freePort finds a TCP port free on the host's loopback.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// followLogs copies Falco's stdout and stderr into the log buffer until the
// container is gone or the run ends.
func (c *Container) followLogs() {
	defer c.wg.Done()
	defer close(c.logsDone)
	rc, err := c.cli.ContainerLogs(c.runCtx, c.GetContainerID(), client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		c.logs.add("attack-replay: reading falco's logs failed: " + err.Error())
		return
	}
	defer rc.Close()
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	var consumers sync.WaitGroup
	consumers.Add(2)
	go func() { defer consumers.Done(); c.logs.consume(outR); _, _ = io.Copy(io.Discard, outR) }()
	go func() { defer consumers.Done(); c.logs.consume(errR); _, _ = io.Copy(io.Discard, errR) }()
	_, err = stdcopy.StdCopy(outW, errW, rc)
	_ = outW.CloseWithError(err)
	_ = errW.CloseWithError(err)
	consumers.Wait()
}

// watch waits for the container to stop. An exit nobody asked for becomes
// an *ExitError given to every hub waiter and returned by Err.
func (c *Container) watch() {
	defer c.wg.Done()
	id := c.GetContainerID()
	var code int64
	for {
		w := c.cli.ContainerWait(c.runCtx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
		select {
		case r := <-w.Result:
			code = r.StatusCode
		case err := <-w.Error:
			if c.runCtx.Err() != nil {
				return
			}
			// The engine connection broke; ask again rather than guess.
			c.logs.add("attack-replay: waiting for falco's exit failed, retrying: " + err.Error())
			select {
			case <-c.runCtx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		break
	}
	if c.stopping.Load() {
		return
	}
	// The log stream ends shortly after the exit: wait for it so the
	// error carries Falco's last words.
	select {
	case <-c.logsDone:
	case <-time.After(logDrainTimeout):
	}
	phase := PhaseStart
	if c.ready.Load() {
		phase = PhaseRun
	}
	e := classifyExit(phase, int(code), c.logs.tail(0), c.rules.hostPath, runFacts{version: c.version, priv: &c.priv, host: host.Machine{}})
	c.exitErr.Store(e)
	close(c.exited)
	if hub := c.hub.Load(); hub != nil {
		hub.Fail(e)
	}
}

// waitForSocket waits until Falco has created its gRPC socket in the
// mounted directory, or Falco exits, or the startup timeout passes.
func (c *Container) waitForSocket(ctx context.Context, sock string) error {
	ctx, cancel := context.WithTimeout(ctx, c.s.startupTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(sock); err == nil {
			return c.makeSocketReachable(ctx, sock)
		}
		select {
		case <-c.exited:
			return c.exitErr.Load()
		case <-ctx.Done():
			return fmt.Errorf("wait for falco's gRPC socket %q: %w (is grpc.enabled true?)\nlast log lines:\n  %s",
				sock, context.Cause(ctx), strings.Join(c.LogTail(exitErrorTailLines), "\n  "))
		case <-tick.C:
		}
	}
}

// makeSocketReachable opens the socket to the harness when it runs as
// another user than the container: Falco (root) creates it with mode 0755,
// and connecting to a unix socket needs write permission.
func (c *Container) makeSocketReachable(ctx context.Context, sock string) error {
	if os.Geteuid() == 0 {
		return nil
	}
	code, out, err := c.Exec(ctx, []string{"chmod", "0666", GRPCSocket}, tcexec.Multiplexed())
	if err == nil && code == 0 {
		return nil
	}
	detail := fmt.Sprintf("exit code %d", code)
	if err != nil {
		detail = err.Error()
	} else if out != nil {
		b, _ := io.ReadAll(out)
		detail += ": " + strings.TrimSpace(string(b))
	}
	return fmt.Errorf("open falco's gRPC socket %q to uid %d: chmod in the falco container failed (%s); run as root, or use WithTransport(TransportHTTP) or WithGRPCOverTCP()",
		sock, os.Geteuid(), detail)
}

// waitReady execs the marker until the barrier rule's canary alert for it
// arrives: /healthz and the gRPC socket come up before capture starts
// (fixtures/falco/FACTS.md), the canary proves capture runs.
func (c *Container) waitReady(ctx context.Context) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.s.startupTimeout)
	defer cancel()
	token := "ready-" + c.s.runID + "-" + newID()
	wait := c.hub.Load().Barrier(token)
	got := make(chan error, 1)
	go func() {
		_, err := wait.Wait(ctx)
		got <- err
	}()
	execer, cmd := c.marker()
	env := tcexec.WithEnv([]string{alert.EnvBarrier + "=" + token})
	// Execs run beside the wait: one racing Falco's death may never report
	// its own end, and an exit must be reported at once.
	type execResult struct {
		code int
		err  error
	}
	execDone := make(chan execResult, 1)
	inFlight := false
	launch := func() {
		inFlight = true
		go func() {
			ectx, ecancel := context.WithTimeout(ctx, markerExecTimeout)
			defer ecancel()
			code, _, err := execer.Exec(ectx, cmd, env)
			execDone <- execResult{code, err}
		}()
	}
	tick := time.NewTicker(readinessInterval)
	defer tick.Stop()
	tries := 1
	launch()
	var lastExec string
	for {
		select {
		case err := <-got:
			if err == nil {
				c.ready.Store(true)
				c.s.logger.Printf("falco: ready after %s (%d marker execs; %s)", time.Since(start).Round(time.Millisecond), tries, c.priv)
				return nil
			}
			if e := c.exitErr.Load(); e != nil {
				return e
			}
			if errors.Is(err, alert.ErrBarrierTimeout) {
				return c.notReady(start, tries, lastExec, err)
			}
			return fmt.Errorf("wait for falco's canary alert: %w", err)
		case <-c.exited:
			return c.exitErr.Load()
		case r := <-execDone:
			inFlight = false
			switch {
			case r.err != nil && ctx.Err() == nil:
				lastExec = r.err.Error()
			case r.err == nil && r.code != 0:
				lastExec = fmt.Sprintf("%q exited with code %d", strings.Join(cmd, " "), r.code)
			}
		case <-tick.C:
			if !inFlight {
				tries++
				launch()
			}
		}
	}
}

func (c *Container) notReady(start time.Time, tries int, lastExec string, err error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "falco not ready after %s: no canary alert from the barrier rule (%d marker execs", time.Since(start).Round(time.Millisecond), tries)
	if lastExec != "" {
		fmt.Fprintf(&b, "; last marker failure: %s", lastExec)
	}
	fmt.Fprintf(&b, "): %v", err)
	if tail := c.LogTail(exitErrorTailLines); len(tail) > 0 {
		b.WriteString("\nlast log lines:\n  " + strings.Join(tail, "\n  "))
	}
	return errors.New(b.String())
}

// marker is what execs the readiness marker: the user's, else the Falco
// container itself with /bin/true, or `falco --version` in images that have
// no /bin/true (any exec carrying AR_BARRIER fires the barrier rule).
func (c *Container) marker() (Execer, []string) {
	if c.s.markerExec != nil {
		return c.s.markerExec, c.s.markerCmd
	}
	if c.hasTrue {
		return c.DockerContainer, []string{trueBinary}
	}
	return c.DockerContainer, []string{falcoBinary, "--version"}
}

// observe counts the drop alerts passing to the hub.
func (c *Container) observe(a alert.Alert) {
	if a.Rule != DropAlertRule {
		return
	}
	c.alertDrops.Add(1)
	if n, err := strconv.ParseInt(a.Fields["n_drops"], 10, 64); err == nil {
		c.alertDropped.Add(n)
	}
}

// observedSource shows every alert to observe before the hub routes it.
type observedSource struct {
	src     alert.Source
	observe func(alert.Alert)
}

func (o observedSource) Run(ctx context.Context, deliver func(alert.Alert)) error {
	return o.src.Run(ctx, func(a alert.Alert) {
		o.observe(a)
		deliver(a)
	})
}

// Hub is the alert hub fed by this Falco: track scenarios and wait for
// barriers there.
func (c *Container) Hub() *alert.Hub { return c.hub.Load() }

// Version is the Falco version running.
func (c *Container) Version() Version { return c.version }

// Transport is how alerts travel from this Falco.
func (c *Container) Transport() Transport { return c.transport }

// Engine is Falco's engine.kind.
func (c *Container) Engine() string { return c.s.engine }

// ContainerFields reports whether alerts carry container.id and
// container.name.
func (c *Container) ContainerFields() bool { return c.fields }

// Privileges says how the container was started.
func (c *Container) Privileges() PrivilegeReport { return c.priv }

// Config is the config drop-in Falco was given.
func (c *Container) Config() []byte { return c.config }

// RunID is the attack-replay.run label of the container.
func (c *Container) RunID() string { return c.s.runID }

// Err is why Falco stopped on its own (an *ExitError), or nil while it
// runs.
func (c *Container) Err() error {
	if e := c.exitErr.Load(); e != nil {
		return e
	}
	return nil
}

// LogTail returns Falco's last n log lines (stdout and stderr, without
// JSON alert lines); all that are kept when n <= 0.
func (c *Container) LogTail(n int) []string { return c.logs.tail(n) }

// Drops is the number of times Falco reported dropped syscall events (one
// report per second with drops), from its drop alerts, drop log lines and,
// once it has stopped, its exit summary. A run with drops is not
// trustworthy: a missing alert proves nothing.
func (c *Container) Drops() int64 {
	d := c.logs.dropLog()
	return max(c.alertDrops.Load(), d.reports, d.summary)
}

// DroppedEvents is the number of syscall events Falco reported dropped.
func (c *Container) DroppedEvents() int64 {
	return max(c.alertDropped.Load(), c.logs.dropLog().dropped)
}

// Terminate stops Falco (gracefully, so it reports its drop summary),
// fails the hub's waiters with ErrTerminated, removes the container and the
// temporary directories. It is safe to call more than once.
func (c *Container) Terminate(ctx context.Context, opts ...testcontainers.TerminateOption) error {
	c.termOnce.Do(func() {
		c.stopping.Store(true)
		// Cleanup must happen even when ctx is already cancelled (Ctrl-C).
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), terminateTimeout)
		defer cancel()
		var errs []error
		if c.DockerContainer != nil {
			timeout := stopTimeout
			if err := c.DockerContainer.Stop(ctx, &timeout); err != nil {
				errs = append(errs, fmt.Errorf("stop falco: %w", err))
			}
			select {
			case <-c.logsDone:
			case <-time.After(logDrainTimeout):
			}
		}
		if hub := c.hub.Load(); hub != nil {
			hub.Fail(ErrTerminated)
		}
		c.cancelRun()
		if c.receiver != nil {
			if err := c.receiver.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if c.DockerContainer != nil {
			if err := c.DockerContainer.Terminate(ctx, opts...); err != nil {
				errs = append(errs, fmt.Errorf("terminate falco: %w", err))
			}
		}
		c.wg.Wait()
		for _, d := range c.tmpDirs {
			if err := os.RemoveAll(d); err != nil {
				errs = append(errs, fmt.Errorf("remove temporary directory: %w", err))
			}
		}
		if err := c.cli.Close(); err != nil {
			errs = append(errs, err)
		}
		c.termErr = errors.Join(errs...)
	})
	return c.termErr
}
