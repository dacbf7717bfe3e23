package doctor

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/host"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// fakeMachine is a host in a chosen state.
type fakeMachine struct {
	kernel  string
	noBTF   bool
	memlock host.Limit
	cgroup  host.Cgroup
	free    uint64
	paths   []string // FreeBytes was asked about these
}

func (m *fakeMachine) KernelRelease() (string, error) { return m.kernel, nil }
func (m *fakeMachine) Memlock() (host.Limit, error)   { return m.memlock, nil }
func (m *fakeMachine) Cgroup() (host.Cgroup, error)   { return m.cgroup, nil }
func (m *fakeMachine) Exists(p string) (bool, error) {
	if p != host.BTFPath {
		return false, fmt.Errorf("unexpected path %s", p)
	}
	return !m.noBTF, nil
}
func (m *fakeMachine) FreeBytes(p string) (uint64, error) {
	m.paths = append(m.paths, p)
	return m.free, nil
}

// fakeEngine is a Docker engine in a chosen state; it counts the probes that reach it.
type fakeEngine struct {
	info      EngineInfo
	infoErr   error
	missing   map[string]bool // images ImagePresent denies
	grant     victim.Grant
	falco     falco.ImageInfo
	falcoErr  error
	grantRuns int
}

func (e *fakeEngine) Info(context.Context) (EngineInfo, error) { return e.info, e.infoErr }
func (e *fakeEngine) ImagePresent(_ context.Context, image string) (bool, error) {
	return !e.missing[image], nil
}
func (e *fakeEngine) Grant(context.Context, string) (victim.Grant, error) {
	e.grantRuns++
	return e.grant, nil
}
func (e *fakeEngine) FalcoImage(context.Context, string) (falco.ImageInfo, error) {
	return e.falco, e.falcoErr
}

const kernel = "6.8.0-45-generic"

// ciRunner is a host where everything works: a CI runner's.
func ciRunner() (*fakeMachine, *fakeEngine) {
	return &fakeMachine{kernel: kernel, memlock: host.Limit{Soft: 8 << 20, Hard: 8 << 20}, cgroup: host.CgroupV2, free: 40 << 30},
		&fakeEngine{
			info:  EngineInfo{Address: "unix:///var/run/docker.sock", ServerVersion: "27.3.1", APIVersion: "1.47", OS: "Ubuntu 24.04.1 LTS", KernelVersion: kernel, CgroupVersion: "2", RootDir: "/var/lib/docker"},
			grant: victim.Grant{Privileged: true},
			falco: falco.ImageInfo{Version: falco.Version{Minor: 43, Patch: 1}, VersionFrom: "falco --version"},
		}
}

// thisMachine is this project's machine as fixtures/falco/FACTS.md describes it: --privileged
// refused for CAP_SYS_RESOURCE, Docker 20.10 without BPF and PERFMON, no Falco image.
func thisMachine() (*fakeMachine, *fakeEngine) {
	m, e := ciRunner()
	m.kernel = "6.18.44-fc-v1147"
	m.cgroup = host.CgroupV1
	e.info = EngineInfo{Address: "unix:///var/run/docker.sock", ServerVersion: "20.10.24+dfsg1", APIVersion: "1.41", KernelVersion: m.kernel, CgroupVersion: "1", RootDir: "/var/lib/docker"}
	e.grant = victim.Grant{
		PrivilegedRefusal: "Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: unable to apply caps: operation not permitted: unknown",
		Accepted:          []string{"CHOWN", "SYS_ADMIN", "SYS_PTRACE"},
		Refused:           []string{"SYS_RESOURCE", "PERFMON", "BPF", "CHECKPOINT_RESTORE"},
	}
	e.falcoErr = fmt.Errorf("inspect falco image %q: %w: not in the Docker engine", "falcosecurity/falco:0.43.1", falco.ErrImageUnavailable)
	return m, e
}

var cfg = Config{FalcoImage: "falcosecurity/falco:0.43.1", VictimImage: "attack-replay/victim:bookworm", ToolsImage: "attack-replay/victim:tools"}

func check(t *testing.T, r *Report, id string) Check {
	t.Helper()
	i := slices.IndexFunc(r.Checks, func(c Check) bool { return c.ID == id })
	if i < 0 {
		t.Fatalf("no %s check in %+v", id, r.Checks)
	}
	return r.Checks[i]
}

// expect checks one check's status and that its detail and fix say what they must.
func expect(t *testing.T, r *Report, id string, status Status, detail, fix string) {
	t.Helper()
	c := check(t, r, id)
	if c.Status != status || !strings.Contains(c.Detail, detail) || !strings.Contains(c.Fix, fix) || (status != StatusOK && status != StatusSkip && c.Fix == "") {
		t.Errorf("%s = %+v\nwant status %s, detail containing %q, fix containing %q", id, c, status, detail, fix)
	}
}

func TestEverythingWorks(t *testing.T) {
	m, e := ciRunner()
	r := Run(t.Context(), cfg, m, e)
	for _, c := range r.Checks {
		if c.Status != StatusOK || c.Fix != "" {
			t.Errorf("%+v, want ok without a fix", c)
		}
	}
	wantOrder := []string{CheckConfig, CheckDocker, CheckPrivileged, CheckKernel, CheckBTF, CheckMemlock, CheckFalcoImage, CheckVictimImage, CheckToolsImage, CheckCgroup, CheckDisk}
	var order []string
	for _, c := range r.Checks {
		order = append(order, c.ID)
	}
	if !slices.Equal(order, wantOrder) || !r.OK {
		t.Errorf("checks %v (ok %v), want %v", order, r.OK, wantOrder)
	}
	expect(t, r, CheckDocker, StatusOK, "Docker 27.3.1 (API 1.47) at unix:///var/run/docker.sock, Ubuntu 24.04.1 LTS", "")
	expect(t, r, CheckMemlock, StatusOK, "soft 8 MiB, hard 8 MiB: Falco raises it with CAP_SYS_RESOURCE, which it has --privileged", "")
	expect(t, r, CheckFalcoImage, StatusOK, "falcosecurity/falco:0.43.1: Falco 0.43.1 (falco --version), alerts over grpc", "")
	expect(t, r, CheckCgroup, StatusOK, "v2", "")
	if !slices.Equal(m.paths, []string{"/var/lib/docker"}) {
		t.Errorf("free space asked of %v, want the engine's root dir", m.paths)
	}
	if r.Summary() != "11 ok: ready for `make test-rules`" {
		t.Errorf("summary %q", r.Summary())
	}
}

func TestThisMachine(t *testing.T) {
	m, e := thisMachine()
	r := Run(t.Context(), cfg, m, e)
	expect(t, r, CheckPrivileged, StatusWarn, "refused (unable to apply caps: operation not permitted: unknown); the widest container the engine starts lacks SYS_RESOURCE, PERFMON, BPF, CHECKPOINT_RESTORE (SYS_ADMIN covers", "--privileged")
	expect(t, r, CheckMemlock, StatusFail, "this machine's limit: soft 8 MiB, hard 8 MiB, and the engine refuses CAP_SYS_RESOURCE", falco.DriverMemlock.Fix())
	expect(t, r, CheckFalcoImage, StatusFail, "falcosecurity/falco:0.43.1 is not in the Docker engine", "docker load -i")
	expect(t, r, CheckFalcoImage, StatusFail, "", "FALCO_IMAGE")
	expect(t, r, CheckCgroup, StatusOK, "v1 (legacy hierarchy)", "")
	expect(t, r, CheckKernel, StatusOK, "6.18.44-fc-v1147 (the engine's)", "")
	if r.OK || !slices.Equal(r.Failed(), []string{CheckMemlock, CheckFalcoImage}) {
		t.Errorf("failed %v (ok %v), want memlock and falco-image", r.Failed(), r.OK)
	}
	want := "8 ok, 1 warn, 2 fail: `make test-rules` will not start here until memlock, falco-image are fixed"
	if r.Summary() != want {
		t.Errorf("summary %q, want %q", r.Summary(), want)
	}
}

// The states this machine cannot show, one at a time from a host where all works.
func TestStates(t *testing.T) {
	for _, tc := range []struct {
		name        string
		change      func(*fakeMachine, *fakeEngine, *Config)
		id          string
		status      Status
		detail, fix string
		others      map[string]Status // the other checks that are not ok
	}{
		{"BTF missing", func(m *fakeMachine, _ *fakeEngine, _ *Config) { m.noBTF = true },
			CheckBTF, StatusFail, "/sys/kernel/btf/vmlinux is absent", falco.DriverNoBTF.Fix(), nil},
		{"old kernel", func(m *fakeMachine, e *fakeEngine, _ *Config) {
			m.kernel, e.info.KernelVersion = "5.4.0-150-generic", "5.4.0-150-generic"
		},
			CheckKernel, StatusWarn, "5.4.0-150-generic (the engine's): older than 5.8", falco.DriverKernelFeatures.Fix(), nil},
		{"cgroup v1", func(_ *fakeMachine, e *fakeEngine, _ *Config) { e.info.CgroupVersion = "1" },
			CheckCgroup, StatusOK, "v1 (legacy hierarchy), as the engine reports", "", nil},
		{"cgroup from this machine", func(m *fakeMachine, e *fakeEngine, _ *Config) { e.info.CgroupVersion, m.cgroup = "", host.CgroupHybrid },
			CheckCgroup, StatusOK, "hybrid on this machine", "", nil},
		{"memlock raisable without privileges", func(m *fakeMachine, e *fakeEngine, _ *Config) {
			m.memlock = host.Limit{Soft: 8 << 20, Hard: host.Unlimited}
			e.grant = victim.Grant{PrivilegedRefusal: "refused", Accepted: []string{"SYS_ADMIN", "SYS_PTRACE"}, Refused: []string{"SYS_RESOURCE"}}
		}, CheckMemlock, StatusOK, "hard unlimited: Falco raises it to unlimited without CAP_SYS_RESOURCE", "", map[string]Status{CheckPrivileged: StatusWarn}},
		{"memlock raisable with capabilities", func(_ *fakeMachine, e *fakeEngine, _ *Config) {
			e.grant = victim.Grant{PrivilegedRefusal: "refused", Accepted: []string{"SYS_ADMIN", "SYS_PTRACE", "SYS_RESOURCE"}, Refused: []string{"MAC_ADMIN"}}
		}, CheckMemlock, StatusOK, "with CAP_SYS_RESOURCE, which the engine grants", "", map[string]Status{CheckPrivileged: StatusWarn}},
		{"privileged accepted", func(*fakeMachine, *fakeEngine, *Config) {},
			CheckPrivileged, StatusOK, "accepted", "", nil},
		{"SYS_ADMIN refused", func(_ *fakeMachine, e *fakeEngine, _ *Config) {
			e.grant = victim.Grant{PrivilegedRefusal: "refused", Accepted: []string{"SYS_PTRACE", "SYS_RESOURCE"}, Refused: []string{"SYS_ADMIN"}}
		}, CheckPrivileged, StatusFail, "Falco's probe cannot run without SYS_ADMIN", "SYS_ADMIN and SYS_PTRACE", nil},
		{"privileged refused, every capability granted", func(_ *fakeMachine, e *fakeEngine, _ *Config) {
			e.grant = victim.Grant{PrivilegedRefusal: "Error response from daemon: privileged mode is disabled", Accepted: []string{"SYS_ADMIN", "SYS_PTRACE", "SYS_RESOURCE"}}
		}, CheckPrivileged, StatusWarn, "refused (privileged mode is disabled), though containers start with every capability", "--privileged", nil},
		{"docker unreachable", func(m *fakeMachine, e *fakeEngine, _ *Config) {
			e.info, e.infoErr = EngineInfo{}, errors.New("ping docker at unix:///var/run/docker.sock: connection refused")
		}, CheckDocker, StatusFail, "no engine answered: ping docker at unix:///var/run/docker.sock: connection refused", "DOCKER_HOST",
			map[string]Status{CheckPrivileged: StatusSkip, CheckFalcoImage: StatusSkip, CheckVictimImage: StatusSkip, CheckToolsImage: StatusSkip, CheckMemlock: StatusWarn}},
		{"engine elsewhere", func(m *fakeMachine, e *fakeEngine, _ *Config) {
			e.info.KernelVersion, e.info.CgroupVersion = "6.10.14-linuxkit", ""
		},
			CheckKernel, StatusOK, "6.10.14-linuxkit (the engine's; this machine runs " + kernel + ")", "",
			map[string]Status{CheckBTF: StatusSkip, CheckMemlock: StatusSkip, CheckCgroup: StatusSkip, CheckDisk: StatusSkip}},
		{"victim image missing", func(_ *fakeMachine, e *fakeEngine, _ *Config) { e.missing = map[string]bool{cfg.VictimImage: true} },
			CheckVictimImage, StatusFail, "attack-replay/victim:bookworm is not in the Docker engine", "make victim-image",
			map[string]Status{CheckPrivileged: StatusSkip, CheckMemlock: StatusWarn}},
		{"tools image missing", func(_ *fakeMachine, e *fakeEngine, _ *Config) { e.missing = map[string]bool{cfg.ToolsImage: true} },
			CheckToolsImage, StatusWarn, "attack-replay/victim:tools is not in the Docker engine: scenarios with `victim: {image: tools}` cannot run", "make victim-images", nil},
		{"no tools image configured", func(_ *fakeMachine, _ *fakeEngine, c *Config) { c.ToolsImage = "" },
			CheckToolsImage, StatusSkip, "not checked: no tools image configured", "", map[string]Status{CheckToolsImage: StatusSkip}},
		{"Falco 0.40 on a 6.15+ kernel", func(m *fakeMachine, e *fakeEngine, _ *Config) {
			m.kernel, e.info.KernelVersion = "6.15.2", "6.15.2"
			e.falco.Version = falco.Version{Minor: 40}
		}, CheckFalcoImage, StatusFail, "Falco before 0.41 cannot load its modern eBPF probe on kernel 6.15.2", falco.DriverCORE.Fix(), nil},
		{"Falco 0.40 on a 6.8 kernel", func(_ *fakeMachine, e *fakeEngine, _ *Config) { e.falco.Version = falco.Version{Minor: 40} },
			CheckFalcoImage, StatusOK, "Falco 0.40.0", "", nil},
		{"Falco 0.44 speaks HTTP", func(_ *fakeMachine, e *fakeEngine, _ *Config) { e.falco.Version = falco.Version{Minor: 44, Patch: 1} },
			CheckFalcoImage, StatusOK, "Falco 0.44.1 (falco --version), alerts over http", "", nil},
		{"Falco too old", func(_ *fakeMachine, e *fakeEngine, _ *Config) { e.falco.Version = falco.Version{Minor: 38, Patch: 2} },
			CheckFalcoImage, StatusFail, "older than 0.39", "Falco 0.39 or newer", nil},
		{"not a Falco image", func(_ *fakeMachine, e *fakeEngine, _ *Config) {
			e.falcoErr = errors.New("probe image \"busybox\": create container: no command")
		}, CheckFalcoImage, StatusFail, "probe image", "/usr/bin/falco --version", nil},
		{"disk nearly full", func(m *fakeMachine, _ *fakeEngine, _ *Config) { m.free = 300 << 20 },
			CheckDisk, StatusFail, "300 MiB free in /var/lib/docker: less than 1 GiB", "docker image prune", nil},
		{"disk low", func(m *fakeMachine, _ *fakeEngine, _ *Config) { m.free = 2 << 30 },
			CheckDisk, StatusWarn, "2 GiB free in /var/lib/docker: less than 4 GiB", "free space in /var/lib/docker", nil},
		{"malformed environment", func(_ *fakeMachine, _ *fakeEngine, c *Config) {
			c.EnvErr = errors.New("read configuration: 1 malformed variable(s):\n  FALCO_PRIVILEGES=\"root\": want auto, privileged or capabilities")
		}, CheckConfig, StatusFail, `read configuration: 1 malformed variable(s): FALCO_PRIVILEGES="root": want auto, privileged or capabilities`, "README: Configuration", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, e := ciRunner()
			c := cfg
			tc.change(m, e, &c)
			r := Run(t.Context(), c, m, e)
			expect(t, r, tc.id, tc.status, tc.detail, tc.fix)
			for _, other := range r.Checks {
				want := cmp.Or(tc.others[other.ID], StatusOK)
				if other.ID != tc.id && other.Status != want {
					t.Errorf("%s = %+v, want %s", other.ID, other, want)
				}
			}
			if r.OK != (tc.status != StatusFail) {
				t.Errorf("report ok = %v with %s %s", r.OK, tc.id, tc.status)
			}
		})
	}
}

// Without a victim image the privilege probe does not run, so the memlock check cannot tell
// whether the engine grants CAP_SYS_RESOURCE: a warning, not a guess.
func TestMemlockUnknownGrant(t *testing.T) {
	m, e := thisMachine()
	e.missing = map[string]bool{cfg.VictimImage: true}
	r := Run(t.Context(), cfg, m, e)
	expect(t, r, CheckMemlock, StatusWarn, "whether the engine grants it was not checked", falco.DriverMemlock.Fix())
	if e.grantRuns != 0 {
		t.Errorf("the privilege probe ran %d times without its image", e.grantRuns)
	}
}

func TestOutput(t *testing.T) {
	m, e := thisMachine()
	r := Run(t.Context(), cfg, m, e)
	var table bytes.Buffer
	if err := r.Table(&table); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(table.String(), "\n"), "\n")
	if !strings.HasPrefix(lines[0], "CHECK ") || lines[len(lines)-1] != r.Summary() || lines[len(lines)-2] != "" {
		t.Fatalf("table:\n%s", table.String())
	}
	// Aligned and wrapped: a row starts with its check, continuation lines leave the first
	// columns blank, and every detail and fix starts in its header's column.
	statusCol, detailCol, fixCol := strings.Index(lines[0], "STATUS"), strings.Index(lines[0], "DETAIL"), strings.Index(lines[0], "FIX")
	var rows []string
	for _, row := range lines[1 : len(lines)-2] {
		if row[0] != ' ' {
			rows = append(rows, strings.Fields(row)[0])
			if row[statusCol-1] != ' ' || row[statusCol] == ' ' {
				t.Errorf("status out of its column:\n%s\n%s", lines[0], row)
			}
		} else if strings.TrimSpace(row[:detailCol]) != "" {
			t.Errorf("continuation line with a check or status:\n%s", row)
		}
		if len(row) > detailCol && row[detailCol-1] != ' ' || len(row) > fixCol && row[fixCol-1] != ' ' {
			t.Errorf("row out of its columns:\n%s\n%s", lines[0], row)
		}
		if len(row) > fixCol+fixWidth || strings.HasSuffix(row, " ") {
			t.Errorf("row of %d characters, wider than the table or padded:\n%q", len(row), row)
		}
	}
	var ids []string
	for _, c := range r.Checks {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(rows, ids) {
		t.Errorf("rows %v, want one per check %v", rows, ids)
	}
	fix := strings.Join(strings.Fields(table.String()[strings.Index(table.String(), "memlock"):strings.Index(table.String(), "falco-image")]), " ")
	if !strings.Contains(fix, "LimitMEMLOCK=infinity") {
		t.Errorf("the memlock row lost its fix:\n%s", table.String())
	}
	t.Logf("\n%s", table.String())

	var out bytes.Buffer
	if err := r.JSON(&out); err != nil {
		t.Fatal(err)
	}
	// The documented shape (README: attack-replay doctor), decoded strictly.
	var doc struct {
		Schema      string `json:"schema"`
		OK          bool   `json:"ok"`
		FalcoImage  string `json:"falco_image"`
		VictimImage string `json:"victim_image"`
		ToolsImage  string `json:"tools_image"`
		Checks      []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Detail string `json:"detail"`
			Fix    string `json:"fix"`
		} `json:"checks"`
	}
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "attack-replay/doctor/v1" || doc.OK || doc.FalcoImage != cfg.FalcoImage || doc.ToolsImage != cfg.ToolsImage || len(doc.Checks) != 11 ||
		doc.Checks[5].ID != "memlock" || doc.Checks[5].Status != "fail" || doc.Checks[5].Fix == "" {
		t.Errorf("json: %+v", doc)
	}
}
