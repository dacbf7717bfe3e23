package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/host"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// Schema names the JSON shape of a Report.
const Schema = "attack-replay/doctor/v1"

// Status is a check's verdict.
type Status string

// Verdicts. Only StatusFail makes a Report fail.
const (
	StatusOK   Status = "ok"
	StatusWarn Status = "warn" // works, or may, with a caveat
	StatusFail Status = "fail" // Falco or the run will not start until fixed
	StatusSkip Status = "skip" // not checked: a check it needs failed
)

// Check IDs, in the order a Report lists them.
const (
	CheckConfig      = "config"
	CheckDocker      = "docker"
	CheckPrivileged  = "privileged"
	CheckKernel      = "kernel"
	CheckBTF         = "btf"
	CheckMemlock     = "memlock"
	CheckFalcoImage  = "falco-image"
	CheckVictimImage = "victim-image"
	CheckToolsImage  = "tools-image"
	CheckCgroup      = "cgroup"
	CheckDisk        = "disk"
)

// Check is one answer.
type Check struct {
	ID     string `json:"id"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Report is every check's answer.
type Report struct {
	Schema      string  `json:"schema"`
	OK          bool    `json:"ok"` // no check failed
	FalcoImage  string  `json:"falco_image"`
	VictimImage string  `json:"victim_image"`
	ToolsImage  string  `json:"tools_image,omitempty"`
	Checks      []Check `json:"checks"`
}

// Failed lists the IDs of the checks that failed.
func (r *Report) Failed() []string {
	var ids []string
	for _, c := range r.Checks {
		if c.Status == StatusFail {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// Config is what the doctor checks for: the images a run would use.
type Config struct {
	FalcoImage  string
	VictimImage string
	// ToolsImage is the image of scenarios with `victim: {image: tools}`; empty skips its check.
	ToolsImage string
	// EnvErr is what reading the run's configuration from the environment found malformed;
	// the config check reports it.
	EnvErr error
}

// Host is what the doctor asks of this machine; host.Machine answers it.
type Host interface {
	KernelRelease() (string, error)
	Exists(path string) (bool, error)
	Memlock() (host.Limit, error)
	Cgroup() (host.Cgroup, error)
	FreeBytes(path string) (uint64, error)
}

// Engine is what the doctor asks of the Docker engine; Docker answers it.
type Engine interface {
	Info(ctx context.Context) (EngineInfo, error)
	ImagePresent(ctx context.Context, image string) (bool, error)
	// Grant starts throw-away containers of image to learn what the engine grants.
	Grant(ctx context.Context, image string) (victim.Grant, error)
	// FalcoImage reads a Falco image's version; an absent image is falco.ErrImageUnavailable.
	FalcoImage(ctx context.Context, image string) (falco.ImageInfo, error)
}

// EngineInfo is what the engine says about itself and its host.
type EngineInfo struct {
	Address       string // the daemon address the client resolved (DOCKER_HOST)
	ServerVersion string
	APIVersion    string
	OS            string
	KernelVersion string // the engine host's kernel release
	CgroupVersion string // "1" or "2"; "" when the engine does not say
	RootDir       string // where the engine keeps images and containers
}

// Bounds of each probe; a Run's context bounds them all.
const (
	infoTimeout       = 15 * time.Second
	imageTimeout      = 15 * time.Second
	grantTimeout      = 90 * time.Second // a bisecting capability probe starts a few dozen containers
	falcoImageTimeout = 60 * time.Second
)

// Thresholds of the disk check: the victim image takes about 400 MB to build, a Falco image
// a few hundred more, and each victim a little.
const (
	diskFail = 1 << 30
	diskWarn = 4 << 30
)

// Falco's requirements the checks hold the answers against.
var (
	// modernProbeKernel is the kernel from which the modern eBPF probe usually loads: "all
	// versions >=5.8 are enough" but features can be backported
	// (falco.org/docs/concepts/event-sources/kernel/#requirements).
	modernProbeKernel = host.Kernel{Major: 5, Minor: 8}
	// falcoCaps are the capabilities Falco's probe cannot do without (harness/falco
	// requiredCaps): SYS_ADMIN loads BPF programs where the engine has no BPF and PERFMON.
	falcoCaps = []string{"SYS_ADMIN", "SYS_PTRACE"}
)

// Run answers every check. It changes nothing on the host or the engine.
func Run(ctx context.Context, cfg Config, machine Host, engine Engine) *Report {
	d := &run{ctx: ctx, cfg: cfg, machine: machine, engine: engine}
	r := &Report{Schema: Schema, FalcoImage: cfg.FalcoImage, VictimImage: cfg.VictimImage, ToolsImage: cfg.ToolsImage}
	config := d.config()
	docker := d.docker()
	victimImage := d.victimImage()
	privileged := d.privileged()
	r.Checks = []Check{config, docker, privileged, d.kernel(), d.btf(), d.memlock(), d.falcoImage(), victimImage, d.toolsImage(), d.cgroup(), d.disk()}
	r.OK = len(r.Failed()) == 0
	return r
}

// run holds what one Run has learnt so far: later checks build on earlier answers.
type run struct {
	ctx     context.Context
	cfg     Config
	machine Host
	engine  Engine

	info        EngineInfo
	infoErr     error
	victimOK    bool
	grant       *victim.Grant
	localKernel string
}

func (d *run) probe(timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(d.ctx, timeout)
}

func ok(id, detail string) Check { return Check{ID: id, Status: StatusOK, Detail: detail} }
func warn(id, detail, fix string) Check {
	return Check{ID: id, Status: StatusWarn, Detail: detail, Fix: fix}
}
func fail(id, detail, fix string) Check {
	return Check{ID: id, Status: StatusFail, Detail: detail, Fix: fix}
}
func skip(id, why string) Check {
	return Check{ID: id, Status: StatusSkip, Detail: "not checked: " + why}
}
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// dockerDown is why the engine's checks are skipped without an engine.
const dockerDown = "the Docker engine is unreachable"

func (d *run) config() Check {
	images := fmt.Sprintf("FALCO_IMAGE=%s, VICTIM_IMAGE=%s", d.cfg.FalcoImage, d.cfg.VictimImage)
	if d.cfg.EnvErr != nil {
		return fail(CheckConfig, oneLine(d.cfg.EnvErr), "correct the variables named (README: Configuration)")
	}
	return ok(CheckConfig, images)
}

func (d *run) docker() Check {
	ctx, cancel := d.probe(infoTimeout)
	defer cancel()
	d.info, d.infoErr = d.engine.Info(ctx)
	if d.infoErr != nil {
		return fail(CheckDocker, "no engine answered: "+oneLine(d.infoErr),
			"start the Docker engine, or set DOCKER_HOST to its socket (e.g. DOCKER_HOST=unix:///var/run/docker.sock)")
	}
	i := d.info
	detail := fmt.Sprintf("Docker %s (API %s) at %s", i.ServerVersion, i.APIVersion, i.Address)
	if i.OS != "" {
		detail += ", " + i.OS
	}
	return ok(CheckDocker, detail)
}

func (d *run) victimImage() Check {
	if d.infoErr != nil {
		return skip(CheckVictimImage, dockerDown)
	}
	ctx, cancel := d.probe(imageTimeout)
	defer cancel()
	present, err := d.engine.ImagePresent(ctx, d.cfg.VictimImage)
	switch {
	case err != nil:
		return fail(CheckVictimImage, oneLine(err), "check that the engine answers `docker image inspect "+d.cfg.VictimImage+"`")
	case !present:
		return fail(CheckVictimImage, d.cfg.VictimImage+" is not in the Docker engine",
			"build it with `make victim-image`, or set "+victim.ImageEnv+" to an image present here (`docker images`)")
	}
	d.victimOK = true
	return ok(CheckVictimImage, d.cfg.VictimImage+" is present")
}

// toolsImage warns, never fails: only scenarios that ask for `victim: {image: tools}` need it,
// and a run checks it again for the scenarios it selects.
func (d *run) toolsImage() Check {
	switch {
	case d.cfg.ToolsImage == "":
		return skip(CheckToolsImage, "no tools image configured")
	case d.infoErr != nil:
		return skip(CheckToolsImage, dockerDown)
	}
	ctx, cancel := d.probe(imageTimeout)
	defer cancel()
	present, err := d.engine.ImagePresent(ctx, d.cfg.ToolsImage)
	switch {
	case err != nil:
		return warn(CheckToolsImage, oneLine(err), "check that the engine answers `docker image inspect "+d.cfg.ToolsImage+"`")
	case !present:
		return warn(CheckToolsImage, d.cfg.ToolsImage+" is not in the Docker engine: scenarios with `victim: {image: tools}` cannot run",
			"build it with `make victim-images`, or set "+victim.ToolsImageEnv+" to an image present here (`docker images`)")
	}
	return ok(CheckToolsImage, d.cfg.ToolsImage+" is present")
}

func (d *run) privileged() Check {
	switch {
	case d.infoErr != nil:
		return skip(CheckPrivileged, dockerDown)
	case !d.victimOK:
		return skip(CheckPrivileged, "the probe containers run `true` from the victim image, which is missing")
	}
	ctx, cancel := d.probe(grantTimeout)
	defer cancel()
	g, err := d.engine.Grant(ctx, d.cfg.VictimImage)
	if err != nil {
		return fail(CheckPrivileged, "the privilege probe failed: "+oneLine(err),
			"see what the engine answers to `docker run --rm --privileged "+d.cfg.VictimImage+" true`")
	}
	d.grant = &g
	if g.Privileged {
		return ok(CheckPrivileged, "accepted: Falco and the victims run privileged")
	}
	detail := "refused (" + falco.RuntimeReason(g.PrivilegedRefusal) + "); the widest container the engine starts lacks " + strings.Join(g.Refused, ", ")
	if len(g.Refused) == 0 {
		detail = "refused (" + falco.RuntimeReason(g.PrivilegedRefusal) + "), though containers start with every capability"
	}
	if slices.Contains(g.Refused, "BPF") || slices.Contains(g.Refused, "PERFMON") {
		detail += " (SYS_ADMIN covers BPF and PERFMON where the engine does not know those names)"
	}
	if missing := slices.DeleteFunc(slices.Clone(falcoCaps), func(c string) bool { return !slices.Contains(g.Refused, c) }); len(missing) > 0 {
		return fail(CheckPrivileged, detail+"; Falco's probe cannot run without "+strings.Join(missing, " and "),
			"run on a host whose engine grants --privileged, or at least "+strings.Join(falcoCaps, " and "))
	}
	return warn(CheckPrivileged, detail,
		"run where the engine accepts --privileged, as CI runners and ordinary hosts do; elsewhere the harness falls back to capabilities (the memlock check says whether Falco then starts)")
}

// kernels returns the engine host's kernel release and this machine's, and whether they are
// the same machine (as far as the kernel tells).
func (d *run) kernels() (engine, local string, same bool) {
	if d.localKernel == "" {
		d.localKernel, _ = d.machine.KernelRelease()
	}
	engine, local = d.info.KernelVersion, d.localKernel
	return engine, local, engine == "" || engine == local
}

// remote skips a check of this machine where the engine runs on another kernel: its answer
// would describe the wrong machine.
func (d *run) remote(id string) (Check, bool) {
	engine, local, same := d.kernels()
	if same {
		return Check{}, false
	}
	return skip(id, fmt.Sprintf("the engine runs on kernel %s, this machine on %s: the engine is elsewhere (a VM or another host); run the doctor there", engine, local)), true
}

func (d *run) kernel() Check {
	engine, local, same := d.kernels()
	release, whose := engine, "the engine's"
	if release == "" {
		release, whose = local, "this machine's"
	}
	if release == "" {
		return warn(CheckKernel, "cannot tell the kernel release", "run the doctor on the engine's host")
	}
	k, err := host.ParseRelease(release)
	if err != nil {
		return warn(CheckKernel, oneLine(err), "check `uname -r` on the engine's host")
	}
	detail := release + " (" + whose
	if !same {
		detail += "; this machine runs " + local
	}
	detail += ")"
	if !k.AtLeast(modernProbeKernel.Major, modernProbeKernel.Minor) {
		return warn(CheckKernel, detail+": older than 5.8, from which the modern eBPF probe usually loads; it starts only where the BPF ring buffer and BTF were backported",
			falco.DriverKernelFeatures.Fix())
	}
	return ok(CheckKernel, detail+": 5.8 or newer, as the modern eBPF probe usually needs")
}

func (d *run) btf() Check {
	if c, remote := d.remote(CheckBTF); remote {
		return c
	}
	present, err := d.machine.Exists(host.BTFPath)
	switch {
	case err != nil:
		return warn(CheckBTF, "cannot tell: "+oneLine(err), "check that "+host.BTFPath+" is readable")
	case !present:
		return fail(CheckBTF, host.BTFPath+" is absent: the kernel exposes no BTF, which the modern eBPF probe needs", falco.DriverNoBTF.Fix())
	}
	return ok(CheckBTF, host.BTFPath+" is present")
}

func (d *run) memlock() Check {
	if c, remote := d.remote(CheckMemlock); remote {
		return c
	}
	l, err := d.machine.Memlock()
	if err != nil {
		return warn(CheckMemlock, "cannot tell: "+oneLine(err), "check `ulimit -l` on the engine's host")
	}
	limit := "this machine's limit: " + l.String()
	switch {
	case l.Hard == host.Unlimited:
		return ok(CheckMemlock, limit+": Falco raises it to unlimited without CAP_SYS_RESOURCE")
	case d.grant == nil:
		return warn(CheckMemlock, limit+": raising it to unlimited, as Falco does, needs CAP_SYS_RESOURCE; whether the engine grants it was not checked (see privileged)",
			falco.DriverMemlock.Fix())
	case d.grant.Privileged:
		return ok(CheckMemlock, limit+": Falco raises it with CAP_SYS_RESOURCE, which it has --privileged")
	case slices.Contains(d.grant.Accepted, "SYS_RESOURCE"):
		return ok(CheckMemlock, limit+": Falco raises it with CAP_SYS_RESOURCE, which the engine grants")
	}
	return fail(CheckMemlock, limit+", and the engine refuses CAP_SYS_RESOURCE: Falco cannot raise it to unlimited and stops with "+
		`"unable to configure the libpman state." (even on kernels 5.11+, which account BPF memory to cgroups)`,
		falco.DriverMemlock.Fix())
}

func (d *run) falcoImage() Check {
	if d.infoErr != nil {
		return skip(CheckFalcoImage, dockerDown)
	}
	ctx, cancel := d.probe(falcoImageTimeout)
	defer cancel()
	img := d.cfg.FalcoImage
	info, err := d.engine.FalcoImage(ctx, img)
	switch {
	case errors.Is(err, falco.ErrImageUnavailable):
		return fail(CheckFalcoImage, img+" is not in the Docker engine (nothing is pulled here)",
			"set "+falco.EnvImage+" to a Falco image present here (`docker images`), load one (`docker load -i falco.tar`), or pull it where a registry answers (`docker pull "+img+"`)")
	case err != nil:
		return fail(CheckFalcoImage, oneLine(err), "set "+falco.EnvImage+" to a Falco image: `/usr/bin/falco --version` must run in it")
	}
	v := info.Version
	detail := fmt.Sprintf("%s: Falco %s (%s)", img, v, info.VersionFrom)
	if !v.AtLeast(falco.MinVersion.Major, falco.MinVersion.Minor) {
		return fail(CheckFalcoImage, detail+fmt.Sprintf(", older than %d.%d, the oldest the harness drives", falco.MinVersion.Major, falco.MinVersion.Minor),
			fmt.Sprintf("set %s to Falco %d.%d or newer", falco.EnvImage, falco.MinVersion.Major, falco.MinVersion.Minor))
	}
	engine, local, _ := d.kernels()
	if k, err := host.ParseRelease(cmp.Or(engine, local)); err == nil && !v.AtLeast(0, 41) && k.AtLeast(6, 15) {
		return fail(CheckFalcoImage, detail+fmt.Sprintf(": Falco before 0.41 cannot load its modern eBPF probe on kernel %s (6.15 or newer: CO-RE relocation failure)", k),
			falco.DriverCORE.Fix())
	}
	transport, _ := falco.ChooseTransport(falco.TransportAuto, v)
	return ok(CheckFalcoImage, detail+", alerts over "+string(transport))
}

func (d *run) cgroup() Check {
	switch d.info.CgroupVersion {
	case "2":
		return ok(CheckCgroup, "v2 (unified hierarchy), as the engine reports")
	case "1":
		return ok(CheckCgroup, "v1 (legacy hierarchy), as the engine reports: Falco and the harness work with it, though systemd and Docker deprecate it")
	}
	if c, remote := d.remote(CheckCgroup); remote {
		return c
	}
	c, err := d.machine.Cgroup()
	if err != nil {
		return warn(CheckCgroup, "cannot tell: "+oneLine(err), "check `stat -fc %T /sys/fs/cgroup` on the engine's host")
	}
	return ok(CheckCgroup, string(c)+" on this machine")
}

func (d *run) disk() Check {
	if c, remote := d.remote(CheckDisk); remote {
		return c
	}
	dir := cmp.Or(d.info.RootDir, ".")
	free, err := d.machine.FreeBytes(dir)
	if err != nil && dir != "." {
		dir = "."
		free, err = d.machine.FreeBytes(dir)
	}
	if err != nil {
		return warn(CheckDisk, "cannot tell: "+oneLine(err), "check `df -h` on the engine's host")
	}
	detail := host.FormatBytes(free) + " free in " + dir
	fix := "free space in " + dir + " (`docker image prune` removes dangling images)"
	switch {
	case free < diskFail:
		return fail(CheckDisk, detail+": less than "+host.FormatBytes(diskFail)+", too little to build the victim image and start Falco", fix)
	case free < diskWarn:
		return warn(CheckDisk, detail+": less than "+host.FormatBytes(diskWarn)+"; building the victim image takes about 400 MB", fix)
	}
	return ok(CheckDisk, detail)
}
