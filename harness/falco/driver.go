package falco

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/attack-replay/attack-replay/harness/host"
)

// DriverCause is why Falco's driver, the modern eBPF probe, did not start, as Falco's own log
// lines tell it. Each cause has its own fix: raising privileges does not help a probe the
// verifier rejects, and a newer Falco does not help a kernel without BTF.
type DriverCause string

// Causes of a driver that did not start.
const (
	// DriverMemlock: libpman could not raise RLIMIT_MEMLOCK to unlimited, which needs
	// CAP_SYS_RESOURCE unless the container's hard limit already is unlimited.
	DriverMemlock DriverCause = "memlock"
	// DriverVerifier: the kernel's BPF verifier rejected one of the probe's programs.
	DriverVerifier DriverCause = "verifier"
	// DriverCORE: the probe expects kernel structures this kernel does not have.
	DriverCORE DriverCause = "core-relocation"
	// DriverNoBTF: the kernel exposes no BTF, which the probe needs to load at all.
	DriverNoBTF DriverCause = "btf-missing"
	// DriverKernelFeatures: the kernel lacks the BPF ring buffer or tracing programs.
	DriverKernelFeatures DriverCause = "kernel-features"
	// DriverPermission: the kernel refused Falco's bpf() calls (EPERM).
	DriverPermission DriverCause = "bpf-permission"
	// DriverUnknown: the driver failed and the log does not say why.
	DriverUnknown DriverCause = "unknown"
)

// DriverFailure is what Falco's log says about a driver that did not start.
type DriverFailure struct {
	Cause DriverCause
	// Program is the BPF program the kernel refused (verifier, CO-RE), e.g. "signal_deliver".
	Program string
	// Reason is the log line that names the cause (for the verifier, its message), without
	// Falco's timestamp and the "[libs]: " prefix.
	Reason string
	Errno  int // libpman's errno; 0 when it printed none
}

// Explanation says in one sentence what went wrong.
func (f DriverFailure) Explanation() string {
	reason := f.Reason
	if f.Errno != 0 {
		reason += fmt.Sprintf(", errno %d", f.Errno)
	}
	switch f.Cause {
	case DriverMemlock:
		return "the modern eBPF probe did not start: Falco could not raise its memlock limit (" + reason + "); " +
			"setting RLIMIT_MEMLOCK to unlimited needs CAP_SYS_RESOURCE unless the container's hard limit already is unlimited"
	case DriverVerifier:
		return fmt.Sprintf("the kernel's BPF verifier rejected the modern eBPF probe's program %q (%s): "+
			"this Falco's probe does not load on this kernel, whatever the privileges and limits", f.Program, reason)
	case DriverCORE:
		return "this Falco's modern eBPF probe expects kernel structures this kernel does not have (CO-RE relocation failure: " + reason + ")"
	case DriverNoBTF:
		return "the kernel exposes no BTF (" + host.BTFPath + "), which the modern eBPF probe needs to load (" + reason + ")"
	case DriverKernelFeatures:
		return "the kernel lacks a BPF feature the modern eBPF probe needs (" + reason + ")"
	case DriverPermission:
		return "the kernel refused Falco's bpf() calls (" + reason + "): Falco lacks CAP_SYS_ADMIN (or BPF and PERFMON) in its container, or a seccomp or LSM policy forbids bpf()"
	default:
		return "the modern eBPF probe did not start and Falco's log does not say why (" + reason + ")"
	}
}

// Fix says what to do about the cause. The doctor's checks give the same fixes.
func (c DriverCause) Fix() string {
	switch c {
	case DriverMemlock:
		return "run Falco --privileged on a host whose engine grants it, as CI runners and ordinary hosts do (FALCO_PRIVILEGES=auto tries it), " +
			"or give containers an unlimited memlock limit (LimitMEMLOCK=infinity in the container runtime's systemd unit); " +
			"the official Falco images do not start modern_ebpf without one or the other"
	case DriverVerifier:
		return "use a Falco release whose probe loads on this kernel (FALCO_IMAGE, usually a newer release), or run on a kernel this release supports; " +
			"if the newest Falco is rejected too, report the verifier lines at github.com/falcosecurity/libs/issues"
	case DriverCORE:
		return "use a Falco built for this kernel (FALCO_IMAGE): Falco 0.40 cannot load its probe on kernels 6.15 and newer, 0.41 and newer can"
	case DriverNoBTF:
		return "run on a kernel built with CONFIG_DEBUG_INFO_BTF=y (distribution kernels since about 5.8 are); the harness drives only the modern eBPF probe"
	case DriverKernelFeatures:
		return "run on a kernel with the BPF ring buffer and BTF tracing programs, usually 5.8 or newer (falco.org/docs/concepts/event-sources/kernel/#requirements)"
	case DriverPermission:
		return "run Falco --privileged, or with SYS_ADMIN, SYS_PTRACE and SYS_RESOURCE and seccomp unconfined, as FALCO_PRIVILEGES=auto does"
	default:
		return "run `make doctor` (attack-replay doctor) to check this host, and read Falco's last log lines"
	}
}

// driverSign is a log line that tells a cause.
type driverSign struct {
	cause DriverCause
	re    *regexp.Regexp
}

// driverSigns, in the order a line is tested. Where each text comes from:
var driverSigns = []driverSign{
	// libbpf src/btf.c btf__load_vmlinux_btf: "kernel BTF is missing at '%s', was
	// CONFIG_DEBUG_INFO_BTF enabled?" (libbpf 1.x) and "failed to find valid kernel BTF"
	// (older); src/libbpf.c: "Error loading vmlinux BTF: %d"; "failed to parse target BTF" is
	// what libpman printed without vmlinux BTF (falcosecurity/libs#928). Tested first: a
	// missing BTF also makes libbpf report that it "failed to perform CO-RE relocations".
	{DriverNoBTF, regexp.MustCompile(`kernel BTF is missing at|failed to find valid kernel BTF|Error loading vmlinux BTF|failed to parse target BTF`)},
	// FACTS.md: Falco 0.40 (libs 0.20) on kernels >= 6.15, "failed to resolve CO-RE
	// relocation … kernfs_node.parent" (libbpf src/relo_core.c); newer libbpf repeats it
	// when it explains the verifier's refusal of the poisoned instruction.
	{DriverCORE, regexp.MustCompile(`failed to resolve CO-RE relocation`)},
	// libs userspace/libpman/src/configuration.c pman_check_support: "ring buffer map type
	// is not supported", "tracing program type is not supported", "prog 'BPF_TRACE_RAW_TP'
	// is not supported" (seen in falcosecurity/falco#2792 and #2698). With errno 1 the
	// kernel refused the probe (falcosecurity/falco#2874): see permissionRE.
	{DriverKernelFeatures, regexp.MustCompile(`ring buffer map type is not supported|tracing program type is not supported|prog 'BPF_TRACE_RAW_TP' is not supported`)},
	// libbpf src/libbpf.c bpf_object_load_prog: "prog '%s': BPF program load failed: %s",
	// then the verifier log between "-- BEGIN PROG LOAD LOG --" and "-- END PROG LOAD LOG
	// --"; bpf_object__load_progs: "prog '%s': failed to load: %d" (the 0.43.1 report
	// reconstructed in fixtures/falco/logs/start-fails-verifier-0.43.1.reconstructed.stderr).
	{DriverVerifier, regexp.MustCompile(`prog '[^']+': (?:BPF program load failed|failed to load\b)|-- BEGIN PROG LOAD LOG --`)},
	// libs userspace/libpman/src/configuration.c pman_init_state: "unable to bump
	// RLIMIT_MEMLOCK to RLIM_INFINITY", then libscap's scap_modern_bpf.c: "unable to
	// configure the libpman state." — alone in samples/logs/start-fails-memlock-0.40.0,
	// whose default config keeps libs' logger off. A build that goes on regardless appends
	// "(continuing: …)" (samples/logs/err43c-0.43.1): not a failure.
	{DriverMemlock, regexp.MustCompile(`unable to bump RLIMIT_MEMLOCK|unable to configure the libpman state`)},
	// The driver failed without a line above: "An error occurred in an event source,
	// forcing termination..." (samples/logs/start-fails-memlock-0.40.0), libsinsp's
	// "Initialization issues during scap_init" (falcosecurity/falco#3498), libpman's
	// "failed to load BPF object" (libpman src/lifecycle.c pman_load_probe).
	{DriverUnknown, regexp.MustCompile(`An error occurred in an event source|Initialization issues during scap_init|libpman: failed to load BPF object`)},
}

var (
	// libpman's pman_print_error suffix: "(errno: 13 | message: Permission denied)".
	errnoRE = regexp.MustCompile(`\(errno: (\d+) \| message: [^)]*\)?`)
	// EPERM from the kernel: a missing capability or a policy, never a verifier verdict
	// (the verifier answers EACCES or EINVAL).
	permissionRE = regexp.MustCompile(`errno: 1 \||Operation not permitted|: -1$|: -EPERM\b`)
	programRE    = regexp.MustCompile(`prog '([^']+)'`)
	// A verifier message outside a load log: a register's state ("R9 invalid mem access
	// 'scalar'") or an invalid access.
	verifierMessageRE = regexp.MustCompile(`^R\d+ \S|invalid (?:mem|indirect|read|write|access)`)
	libsPrefix        = "[libs]: "
)

// DiagnoseDriver reads Falco's log lines for a driver that did not start. ok is false when
// they show no driver failure (a rules error, a bad config value, a clean stop).
func DiagnoseDriver(lines []string) (f DriverFailure, ok bool) {
	rank := len(driverSigns)
	var inLoadLog bool
	var verifierMessage, libpmanError string
	for _, raw := range lines {
		line := strings.TrimPrefix(stripLogTimestamp(strings.TrimSpace(raw)), libsPrefix)
		switch {
		case strings.Contains(line, "-- END PROG LOAD LOG --"):
			inLoadLog = false
		case inLoadLog:
			if line != "" && !strings.HasPrefix(line, "processed ") && !strings.HasPrefix(line, "verification time") {
				verifierMessage = line
			}
		case verifierMessage == "" && verifierMessageRE.MatchString(line):
			verifierMessage = line
		}
		if strings.Contains(line, "-- BEGIN PROG LOAD LOG --") {
			inLoadLog = true
		}
		if strings.Contains(line, "(continuing") {
			continue
		}
		if strings.HasPrefix(line, "libpman: ") && libpmanError == "" && !strings.Contains(line, "failure while attaching TOCTOU") {
			libpmanError = line
		}
		for i, s := range driverSigns[:rank] {
			if !s.re.MatchString(line) {
				continue
			}
			rank = i
			f = DriverFailure{Cause: s.cause, Reason: line}
			if m := programRE.FindStringSubmatch(line); m != nil {
				f.Program = m[1]
			}
			break
		}
	}
	if rank == len(driverSigns) {
		return DriverFailure{}, false
	}
	if m := errnoRE.FindStringSubmatch(libpmanError); m != nil {
		f.Errno, _ = strconv.Atoi(m[1])
	}
	switch f.Cause {
	case DriverVerifier, DriverKernelFeatures:
		if permissionRE.MatchString(f.Reason) || f.Errno == 1 {
			f.Cause = DriverPermission
		} else if f.Cause == DriverVerifier && verifierMessage != "" {
			f.Reason = verifierMessage
		}
	case DriverMemlock:
		// "unable to configure the libpman state" has other causes too; libpman names them.
		if libpmanError != "" && !strings.Contains(libpmanError, "RLIMIT_MEMLOCK") {
			f.Cause, f.Reason = DriverUnknown, libpmanError
		}
	case DriverUnknown:
		if libpmanError != "" {
			f.Reason = libpmanError
		}
	}
	f.Reason = strings.TrimPrefix(strings.TrimSpace(errnoRE.ReplaceAllString(f.Reason, "")), "Error: ")
	return f, true
}

// hostFacts is what a driver failure's hint asks of the machine the harness runs on
// (host.Machine answers it).
type hostFacts interface {
	KernelRelease() (string, error)
	Exists(path string) (bool, error)
	Memlock() (host.Limit, error)
}

// runFacts is what the harness knows about the Falco that exited.
type runFacts struct {
	version Version          // zero when unknown
	priv    *PrivilegeReport // nil when unknown
	host    hostFacts        // nil: no host facts
}

// systemInfoRE finds the kernel Falco ran on in its start-up log ("System info: Linux
// version 6.18.44-fc-v595 (builder@…) …", samples/logs/start-fails-memlock-0.40.0).
var systemInfoRE = regexp.MustCompile(`^System info: Linux version (\S+)`)

// about lists what this run and this host add to the hint for f. Host facts are given only
// where this machine runs the kernel Falco ran on: with a remote engine they would describe
// the wrong machine.
func (r runFacts) about(f DriverFailure, lines []string) []string {
	version, kernel := r.version, ""
	for _, raw := range lines {
		if m := systemInfoRE.FindStringSubmatch(stripLogTimestamp(strings.TrimSpace(raw))); m != nil {
			kernel = m[1]
		}
	}
	if version.IsZero() {
		version, _ = ParseVersionOutput(strings.Join(lines, "\n"))
	}
	var local string
	if r.host != nil {
		local, _ = r.host.KernelRelease()
	}
	sameHost := local != "" && (kernel == "" || kernel == local)
	if kernel == "" {
		kernel = local
	}

	var facts []string
	switch {
	case !version.IsZero() && kernel != "":
		facts = append(facts, fmt.Sprintf("Falco %s on kernel %s", version, kernel))
	case kernel != "":
		facts = append(facts, "kernel "+kernel)
	}
	if local != "" && !sameHost {
		facts = append(facts, fmt.Sprintf("this machine runs kernel %s, Falco ran on %s: the engine runs elsewhere (a VM or another host), so run `attack-replay doctor` there", local, kernel))
	}
	switch f.Cause {
	case DriverCORE:
		if k, err := host.ParseRelease(kernel); err == nil && !version.IsZero() && !version.AtLeast(0, 41) && k.AtLeast(6, 15) {
			facts = append(facts, "Falco before 0.41 on a kernel 6.15 or newer: the known incompatibility (kernfs_node.parent moved)")
		}
	case DriverMemlock, DriverPermission:
		if r.priv != nil {
			facts = append(facts, r.privileges(f.Cause))
		}
		if f.Cause == DriverMemlock && sameHost {
			if l, err := r.host.Memlock(); err == nil {
				facts = append(facts, "memlock limit on this host: "+l.String())
			}
		}
	case DriverNoBTF:
		if !sameHost {
			break
		}
		switch ok, err := r.host.Exists(host.BTFPath); {
		case err != nil:
		case ok:
			facts = append(facts, host.BTFPath+" exists on this host, yet Falco found none: is /sys hidden from its container?")
		default:
			facts = append(facts, host.BTFPath+" is absent on this host")
		}
	}
	return facts
}

// privileges says how this Falco was started, for a memlock or permission failure.
func (r runFacts) privileges(cause DriverCause) string {
	p := *r.priv
	s := "Falco ran privileged"
	if !p.Privileged {
		s = "Falco ran with " + p.String()
	}
	if p.Refused != "" {
		s += "; the engine refused --privileged: " + RuntimeReason(p.Refused)
	}
	hadResource := p.Privileged || slices.Contains(p.CapAdd, "SYS_RESOURCE")
	if cause == DriverMemlock && hadResource {
		s += "; it had CAP_SYS_RESOURCE, so a user namespace (rootless Docker) must have refused the limit"
	}
	return s
}

// RuntimeReason keeps the runtime's own words of a refused container start ("unable to
// apply caps: operation not permitted: unknown") from the engine's chain of wrappers.
func RuntimeReason(refusal string) string {
	for _, marker := range []string{"error during container init: ", "unable to start container process: ", "Error response from daemon: "} {
		if i := strings.LastIndex(refusal, marker); i >= 0 {
			return refusal[i+len(marker):]
		}
	}
	return refusal
}
