package falco

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/attack-replay/attack-replay/harness/host"
)

func fixtureLines(t *testing.T, name string) []string {
	t.Helper()
	return strings.Split(strings.TrimRight(readFixture(t, name), "\n"), "\n")
}

// startOf043 is the real start of a 0.43.1 run up to the driver's opening
// (samples/logs/err43c-0.43.1.stderr), before its memlock warning.
func startOf043(t *testing.T) []string {
	t.Helper()
	lines := fixtureLines(t, "logs/err43c-0.43.1.stderr")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "Trying to open the right engine!") })
	if i < 0 {
		t.Fatal("err43c-0.43.1.stderr no longer opens the engine")
	}
	return lines[:i+1]
}

// asLibsLog makes lines look as Falco's libs logger prints them.
func asLibsLog(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		if strings.HasPrefix(l, "Error: ") {
			out[i] = l
			continue
		}
		out[i] = "Wed Nov 25 20:39:14 2026: [libs]: " + l
	}
	return out
}

func TestDiagnoseDriver(t *testing.T) {
	verifier := fixtureLines(t, "logs/start-fails-verifier-0.43.1.reconstructed.stderr")
	memlock := fixtureLines(t, "logs/start-fails-memlock-0.40.0.stderr")
	for _, tc := range []struct {
		name  string
		lines []string
		want  DriverFailure
	}{
		{"memlock, recorded by 0.40.0 (libs logger off)", memlock,
			DriverFailure{Cause: DriverMemlock, Reason: "unable to configure the libpman state."}},
		// libpman's own line (libs userspace/libpman/src/configuration.c), as a Falco 0.39.2
		// printed it with libs_logger on, then libscap's.
		{"memlock, libpman's line", asLibsLog([]string{
			"libpman: unable to bump RLIMIT_MEMLOCK to RLIM_INFINITY (errno: 1 | message: Operation not permitted)",
			"Error: unable to configure the libpman state.",
		}), DriverFailure{Cause: DriverMemlock, Reason: "libpman: unable to bump RLIMIT_MEMLOCK to RLIM_INFINITY", Errno: 1}},
		{"verifier, the reconstructed 0.43.1 report", verifier,
			DriverFailure{Cause: DriverVerifier, Program: "signal_deliver", Reason: "R9 invalid mem access 'scalar'", Errno: 13}},
		{"verifier, in a real 0.43.1 start through the libs logger", append(startOf043(t), asLibsLog(verifier)...),
			DriverFailure{Cause: DriverVerifier, Program: "signal_deliver", Reason: "R9 invalid mem access 'scalar'", Errno: 13}},
		// libbpf's load log framing (src/libbpf.c bpf_object_load_prog): the verifier's last
		// word before the END marker is the reason, not the instruction count.
		{"verifier, with libbpf's load log", asLibsLog([]string{
			"libbpf: prog 'sys_enter': BPF program load failed: Permission denied",
			"libbpf: prog 'sys_enter': -- BEGIN PROG LOAD LOG --",
			"0: (bf) r6 = r1",
			"R2 invalid mem access 'inv'",
			"processed 14 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1",
			"-- END PROG LOAD LOG --",
			"libbpf: prog 'sys_enter': failed to load: -13",
			"libpman: failed to load BPF object (errno: 13 | message: Permission denied)",
		}), DriverFailure{Cause: DriverVerifier, Program: "sys_enter", Reason: "R2 invalid mem access 'inv'", Errno: 13}},
		// FACTS.md quotes the CO-RE line of 0.40 on kernels >= 6.15; no full log was
		// recorded, so it is added to the driver failure that follows it.
		{"CO-RE relocation", append([]string{"Wed Nov 25 20:07:23 2026: [libs]: libbpf: prog 'x': failed to resolve CO-RE relocation <byte_off> [1] struct kernfs_node.parent"}, memlock...),
			DriverFailure{Cause: DriverCORE, Program: "x", Reason: "libbpf: prog 'x': failed to resolve CO-RE relocation <byte_off> [1] struct kernfs_node.parent"}},
		// What libpman printed without vmlinux BTF (falcosecurity/libs#928).
		{"BTF missing, libs 0.10", asLibsLog([]string{
			"libbpf: failed to parse target BTF: -2",
			"libbpf: failed to perform CO-RE relocations: -2",
			"libbpf: failed to load object 'bpf_probe'",
			"libbpf: failed to load BPF skeleton 'bpf_probe': -2",
			"libpman: failed to load BPF object (errno: 2 | message: No such file or directory)",
		}), DriverFailure{Cause: DriverNoBTF, Reason: "libbpf: failed to parse target BTF: -2", Errno: 2}},
		// libbpf 1.x (src/btf.c btf__load_vmlinux_btf, src/libbpf.c).
		{"BTF missing, libbpf 1.x", asLibsLog([]string{
			"libbpf: kernel BTF is missing at '/sys/kernel/btf/vmlinux', was CONFIG_DEBUG_INFO_BTF enabled?",
			"libbpf: failed to find valid kernel BTF",
			"libbpf: Error loading vmlinux BTF: -3",
			"libpman: failed to load BPF object (errno: 3 | message: No such process)",
			"Error: Initialization issues during scap_init",
		}), DriverFailure{Cause: DriverNoBTF, Reason: "libbpf: kernel BTF is missing at '/sys/kernel/btf/vmlinux', was CONFIG_DEBUG_INFO_BTF enabled?", Errno: 3}},
		// falcosecurity/falco#2792 (Falco 0.35.1, kernel 5.4).
		{"kernel features", []string{
			"Fri Sep  8 14:38:29 2023: One ring buffer every '2' CPUs.",
			"libpman: tracing program type is not supported (errno: 22 | message: Invalid argument)",
			"Fri Sep  8 14:38:29 2023: An error occurred in an event source, forcing termination...",
		}, DriverFailure{Cause: DriverKernelFeatures, Reason: "libpman: tracing program type is not supported", Errno: 22}},
		// falcosecurity/falco#2874 (GKE): the same check refused with EPERM.
		{"bpf permission", []string{
			"libpman: ring buffer map type is not supported (errno: 1 | message: Operation not permitted)",
			"An error occurred in an event source, forcing termination...",
		}, DriverFailure{Cause: DriverPermission, Reason: "libpman: ring buffer map type is not supported", Errno: 1}},
		// falcosecurity/falco#3498: nothing but libsinsp's summary.
		{"unknown", []string{
			"2025-02-19T13:04:45+0000:    /etc/falco/falco_rules.local.yaml | schema validation: none",
			"Error: Initialization issues during scap_init",
		}, DriverFailure{Cause: DriverUnknown, Reason: "Initialization issues during scap_init"}},
		{"unknown libpman state failure", asLibsLog([]string{
			"libpman: no available cpus (errno: 2 | message: No such file or directory)",
			"Error: unable to configure the libpman state.",
		}), DriverFailure{Cause: DriverUnknown, Reason: "libpman: no available cpus", Errno: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := DiagnoseDriver(tc.lines)
			if !ok || got != tc.want {
				t.Errorf("DiagnoseDriver = %+v, %v; want %+v", got, ok, tc.want)
			}
		})
	}
}

// A running Falco's warnings (memlock "continuing", TOCTOU kprobes that do not attach), a
// clean stop and start failures that are not the driver's are no driver failure.
func TestDiagnoseDriverNone(t *testing.T) {
	for _, name := range []string{
		"logs/err43c-0.43.1.stderr", "logs/start-and-stop-0.40.0.stderr", "logs/start-fails-invalid-rules-0.43.1.stderr",
		"logs/err43b-0.43.1.stderr", "validate/d2.err", "validate/d3.err",
	} {
		if f, ok := DiagnoseDriver(fixtureLines(t, name)); ok {
			t.Errorf("%s: DiagnoseDriver = %+v, want no driver failure", name, f)
		}
	}
}

// Every cause has its own explanation and fix: a user told "memlock" for a verifier
// rejection goes looking in the wrong place.
func TestDriverCausesDiffer(t *testing.T) {
	causes := []DriverCause{DriverMemlock, DriverVerifier, DriverCORE, DriverNoBTF, DriverKernelFeatures, DriverPermission, DriverUnknown}
	seen := map[string]DriverCause{}
	for _, c := range causes {
		f := DriverFailure{Cause: c, Reason: "the line", Program: "p"}
		for _, text := range []string{c.Fix(), f.Explanation()} {
			if other, dup := seen[text]; dup || text == "" {
				t.Errorf("%s and %s say the same: %q", c, other, text)
			}
			seen[text] = c
		}
	}
	if !strings.Contains(DriverVerifier.Fix(), "FALCO_IMAGE") || strings.Contains(DriverVerifier.Fix(), "privileged") {
		t.Errorf("the verifier's fix is about privileges: %q", DriverVerifier.Fix())
	}
	if !strings.Contains(DriverMemlock.Fix(), "--privileged") || !strings.Contains(DriverMemlock.Fix(), "LimitMEMLOCK=infinity") {
		t.Errorf("the memlock fix names neither way out: %q", DriverMemlock.Fix())
	}
}

// fakeHost is a machine in a state this one may not be in.
type fakeHost struct {
	kernel  string
	btf     bool
	memlock host.Limit
}

func (h fakeHost) KernelRelease() (string, error) { return h.kernel, nil }
func (h fakeHost) Memlock() (host.Limit, error)   { return h.memlock, nil }
func (h fakeHost) Exists(p string) (bool, error) {
	if p != host.BTFPath {
		return false, errors.New("unexpected path " + p)
	}
	return h.btf, nil
}

func TestDriverFacts(t *testing.T) {
	const kernel = "6.18.44-fc-v595" // the kernel of the recorded logs
	systemInfo := "Wed Nov 25 20:07:23 2026: System info: Linux version " + kernel + " (builder@sandboxing) #1 SMP PREEMPT_DYNAMIC @0"
	refused := &PrivilegeReport{CapAdd: []string{"SYS_ADMIN", "SYS_PTRACE"}, Dropped: []string{"BPF", "PERFMON", "SYS_RESOURCE"},
		Refused: "generic container: start container: container start: Error response from daemon: failed to create shim task: OCI runtime create failed: " +
			"runc create failed: unable to start container process: unable to apply caps: operation not permitted: unknown"}
	eightMiB := host.Limit{Soft: 8 << 20, Hard: 8 << 20}
	for _, tc := range []struct {
		name  string
		cause DriverCause
		lines []string
		run   runFacts
		want  []string
	}{
		{"BTF absent here", DriverNoBTF, []string{systemInfo}, runFacts{version: Version{Minor: 43, Patch: 1}, host: fakeHost{kernel: kernel}},
			[]string{"Falco 0.43.1 on kernel " + kernel, host.BTFPath + " is absent on this host"}},
		{"BTF present here", DriverNoBTF, []string{systemInfo}, runFacts{host: fakeHost{kernel: kernel, btf: true}},
			[]string{"kernel " + kernel, host.BTFPath + " exists on this host, yet Falco found none: is /sys hidden from its container?"}},
		{"BTF, engine elsewhere", DriverNoBTF, []string{systemInfo}, runFacts{host: fakeHost{kernel: "5.4.0-150-generic"}},
			[]string{"kernel " + kernel, "this machine runs kernel 5.4.0-150-generic, Falco ran on " + kernel + ": the engine runs elsewhere (a VM or another host), so run `attack-replay doctor` there"}},
		{"memlock, capabilities", DriverMemlock, fixtureLines(t, "logs/start-fails-memlock-0.40.0.stderr"), runFacts{priv: refused, host: fakeHost{kernel: kernel, memlock: eightMiB}},
			[]string{"Falco 0.40.0 on kernel " + kernel,
				"Falco ran with capabilities SYS_ADMIN, SYS_PTRACE (refused by the engine: BPF, PERFMON, SYS_RESOURCE); the engine refused --privileged: unable to apply caps: operation not permitted: unknown",
				"memlock limit on this host: soft 8 MiB, hard 8 MiB"}},
		{"memlock, privileged", DriverMemlock, nil, runFacts{priv: &PrivilegeReport{Privileged: true}, host: fakeHost{kernel: kernel, memlock: eightMiB}},
			[]string{"kernel " + kernel, "Falco ran privileged; it had CAP_SYS_RESOURCE, so a user namespace (rootless Docker) must have refused the limit",
				"memlock limit on this host: soft 8 MiB, hard 8 MiB"}},
		{"CO-RE, Falco 0.40 on 6.18", DriverCORE, []string{systemInfo}, runFacts{version: Version{Minor: 40}},
			[]string{"Falco 0.40.0 on kernel " + kernel, "Falco before 0.41 on a kernel 6.15 or newer: the known incompatibility (kernfs_node.parent moved)"}},
		{"CO-RE, Falco 0.43 on 6.18", DriverCORE, []string{systemInfo}, runFacts{version: Version{Minor: 43, Patch: 1}},
			[]string{"Falco 0.43.1 on kernel " + kernel}},
		{"verifier, no host", DriverVerifier, fixtureLines(t, "logs/start-fails-verifier-0.43.1.reconstructed.stderr"), runFacts{version: Version{Minor: 43, Patch: 1}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.run.about(DriverFailure{Cause: tc.cause}, tc.lines)
			if !slices.Equal(got, tc.want) {
				t.Errorf("facts:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestRuntimeReason(t *testing.T) {
	for in, want := range map[string]string{
		"Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: unable to apply caps: operation not permitted: unknown":                      "unable to apply caps: operation not permitted: unknown",
		"OCI runtime create failed: runc create failed: unable to start container process: error during container init: error setting rlimits for ready process: error setting rlimit type 8: operation not permitted: unknown": "error setting rlimits for ready process: error setting rlimit type 8: operation not permitted: unknown",
		"Error response from daemon: privileged mode is disabled": "privileged mode is disabled",
		"something else": "something else",
	} {
		if got := RuntimeReason(in); got != want {
			t.Errorf("RuntimeReason(%q) = %q, want %q", in, got, want)
		}
	}
}
