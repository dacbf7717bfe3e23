package report

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/attack"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

var update = flag.Bool("update", false, "rewrite the golden files under fixtures/report from the current output")

// Recorded Falco alerts (copied unchanged into fixtures/falco, see its README.md).
const (
	samples040 = "../../fixtures/falco/http-0.40.0.jsonl" // Falco 0.40.0, the published T1490 rule
	samples044 = "../../fixtures/falco/http-0.44.1.jsonl" // Falco 0.44.1, upstream credential rules
	goldenDir  = "../../fixtures/report"
)

// sampleAlert decodes line n (1-based) of a recorded alert file.
func sampleAlert(t *testing.T, file string, n int) alert.Alert {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("open sample: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for i := 1; sc.Scan(); i++ {
		if i == n {
			a, err := alert.DecodeJSON(sc.Bytes())
			if err != nil {
				t.Fatalf("%s:%d: %v", file, n, err)
			}
			return a
		}
	}
	t.Fatalf("%s has no line %d", file, n)
	return alert.Alert{}
}

// attemptSpec describes one recorded attempt: the alerts its steps raised
// (by sample line), what the step did, and the drops Falco reported.
type attemptSpec struct {
	file      string
	lines     []int
	barrier   int // sample line of the barrier alert, 0 for none
	exit      int
	stderr    string
	drops     int64
	detection time.Duration // step start to each alert's event time
}

// recordedRun is a run of eight scenarios over three techniques, judged by
// the real verdict.Judge from alerts Falco really sent:
//
//	T1490 root-systemctl-rescue           pass
//	T1490 root-rm-rf                      flaky (pass, then fail: no alert)
//	T1490 systemctl-disable-recovery-mode fail, near miss on user.name
//	T1490 benign-rm-build-cache           fail: false positive (the published rule's bug)
//	T1490 mkfs-nodiscard                  error: exit 127
//	T1555 read-shadow                     pass
//	T1552.001 find-private-keys           pass
//	T1552.001 grep-passwords              inconclusive: 12 drops
func recordedRun(t *testing.T) Run {
	t.Helper()
	critical := rules.Critical
	one := 1
	T1490 := func(id string, line int) *scenario.Scenario {
		return &scenario.Scenario{ID: id, File: "scenarios/impact/T1490.yaml", Line: line, Technique: "T1490", Tactic: "impact",
			TechniqueName: "Inhibit System Recovery", Timeout: scenario.DefaultScenarioTimeout}
	}
	cred := func(id, technique, name string, line int) *scenario.Scenario {
		return &scenario.Scenario{ID: id, File: "scenarios/credential-access/" + technique + ".yaml", Line: line,
			Technique: attack.TechniqueID(technique), Tactic: "credential-access", TechniqueName: name, Timeout: scenario.DefaultScenarioTimeout}
	}
	drf := func(fields ...scenario.FieldMatch) scenario.Matcher {
		return scenario.Matcher{Rule: "Disable recovery features", Priority: &critical, Fields: fields, Min: 1}
	}
	field := func(name string, kind scenario.MatchKind, value string) scenario.FieldMatch {
		return scenario.FieldMatch{Field: name, TextMatch: scenario.TextMatch{Kind: kind, Value: value}}
	}

	rescue := T1490("root-systemctl-rescue", 5)
	rescue.Description = "Root disables the rescue target so the host cannot boot into recovery."
	rescue.Steps = []scenario.Step{{Run: "systemctl disable rescue.service"}}
	rescue.Expect = []scenario.Matcher{drf(field("proc.cmdline", scenario.Contains, "rescue.service"))}

	rmrf := T1490("root-rm-rf", 18)
	rmrf.Steps = []scenario.Step{{Run: "rm -rf /tmp/x"}}
	rmrf.Expect = []scenario.Matcher{drf(field("proc.cmdline", scenario.Contains, "/tmp/x"))}

	recovery := T1490("systemctl-disable-recovery-mode", 30)
	recovery.Description = "Root disables the recovery-mode service."
	recovery.Steps = []scenario.Step{{Run: "systemctl disable recovery-mode.service"}}
	recovery.Expect = []scenario.Matcher{drf(field("user.name", scenario.Equals, "root"))}

	benign := T1490("benign-rm-build-cache", 44)
	benign.Benign = true
	benign.Description = "A build script removes its cache: not an attack."
	benign.Steps = []scenario.Step{{Run: "rm -rf /tmp/y"}}
	benign.Forbid = []scenario.Matcher{{Rule: "Disable recovery features"}, {Rule: "Clear Log Activity", Line: 52}}

	mkfs := T1490("mkfs-nodiscard", 56)
	mkfs.Steps = []scenario.Step{{Run: "mkfs.ext4 -E nodiscard /dev/loop0"}}
	mkfs.Expect = []scenario.Matcher{drf()}

	shadow := cred("read-shadow", "T1555", "Credentials from Password Stores", 5)
	shadow.Steps = []scenario.Step{{Run: "cat /etc/shadow"}}
	shadow.Expect = []scenario.Matcher{{Rule: "Read sensitive file untrusted", Fields: []scenario.FieldMatch{field("fd.name", scenario.Equals, "/etc/shadow")}, Min: 1, Max: &one}}

	keys := cred("find-private-keys", "T1552.001", "Credentials In Files", 5)
	keys.Steps = []scenario.Step{{Run: "find / -name id_rsa -xdev"}}
	keys.Expect = []scenario.Matcher{{Rule: "Search Private Keys or Passwords", Tags: []string{"T1552.001"}, Min: 1}}

	grep := cred("grep-passwords", "T1552.001", "Credentials In Files", 20)
	grep.Steps = []scenario.Step{{Run: "grep -r password /etc"}}
	grep.Expect = []scenario.Matcher{{Rule: "Search Private Keys or Passwords", Min: 1}}

	specs := []struct {
		sc       *scenario.Scenario
		attempts []attemptSpec
	}{
		{rescue, []attemptSpec{{file: samples040, lines: []int{4}, barrier: 8, detection: 35 * time.Millisecond}}},
		{rmrf, []attemptSpec{{file: samples040, lines: []int{2, 3}, detection: 48 * time.Millisecond}, {file: samples040}}},
		{recovery, []attemptSpec{{file: samples040, lines: []int{5}, detection: 52 * time.Millisecond}}},
		{benign, []attemptSpec{{file: samples040, lines: []int{6, 7}, detection: 41 * time.Millisecond}}},
		{mkfs, []attemptSpec{{file: samples040, exit: 127, stderr: "sh: 1: mkfs.ext4: not found\n"}}},
		{shadow, []attemptSpec{{file: samples044, lines: []int{2}, detection: 120 * time.Millisecond}}},
		{keys, []attemptSpec{{file: samples044, lines: []int{3}, detection: 310 * time.Millisecond}}},
		{grep, []attemptSpec{{file: samples044, drops: 12}}},
	}

	start := time.Date(2026, 11, 25, 20, 44, 10, 0, time.UTC)
	run := Run{
		Meta: Meta{
			Tool:          Tool{Version: "v0.1.0", Commit: "0123abc"},
			Falco:         Falco{Version: "0.40.0", Image: "falcosecurity/falco:0.40.0", Engine: "modern_ebpf", Transport: alert.TransportHTTP},
			VictimImage:   "attack-replay/victim:bookworm",
			AttackRelease: "18",
			RulesFiles: []FileHash{
				{Path: "rules/impact.yaml", SHA256: "3f2a9c1d8e7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998877"},
				{Path: "rules/credential-access.yaml", SHA256: "aa11bb22cc33dd44ee55ff6677889900aabbccddeeff00112233445566778899"},
			},
			Start:      start,
			End:        start.Add(95 * time.Second),
			HostAlerts: 4,
			Repeat:     2,
		},
		Rules: []Rule{
			{Name: "Disable recovery features", Priority: rules.Critical, Tags: []string{"mitre_impact", "inhibit_system_recovery", "T1490"}, File: "rules/impact.yaml", Line: 3, Hash: "sha256:d1", Candidate: true, Enabled: true},
			{Name: "Any rm", Priority: rules.Notice, Tags: []string{"test"}, File: "rules/impact.yaml", Line: 21, Hash: "sha256:a1", Candidate: true, Enabled: true},
			{Name: "Wipe block devices", Priority: rules.Critical, Tags: []string{"mitre_impact", "T1485"}, File: "rules/impact.yaml", Line: 30, Hash: "sha256:w1", Candidate: true, Enabled: true},
			{Name: "Read sensitive file untrusted", Priority: rules.Warning, Tags: []string{"T1555", "mitre_credential_access"}, File: "rules/credential-access.yaml", Line: 1, Hash: "sha256:r1", Candidate: true, Enabled: true},
			{Name: "Search Private Keys or Passwords", Priority: rules.Warning, Tags: []string{"T1552.001", "mitre_credential_access"}, File: "rules/credential-access.yaml", Line: 20, Hash: "sha256:s1", Candidate: true, Enabled: true},
			{Name: "Clear Log Activities", Priority: rules.Warning, Tags: []string{"mitre_defense_evasion", "T1070.002"}, File: "rules/stealth.yaml", Line: 1, Hash: "sha256:c1", Candidate: true, Enabled: true},
			{Name: "Write below etc", Priority: rules.Error, Tags: []string{"mitre_persistence", "T1098"}, File: "/etc/falco/falco_rules.yaml", Line: 900, Hash: "sha256:e1", Enabled: true},
		},
	}
	for _, spec := range specs {
		run.Scenarios = append(run.Scenarios, spec.sc)
		var attempts []verdict.Verdict
		for i, as := range spec.attempts {
			attempts = append(attempts, judgeAttempt(t, spec.sc, i+1, as, start.Add(time.Duration(len(run.Results)*10+i)*time.Second)))
		}
		run.Results = append(run.Results, verdict.Summarise(attempts))
	}
	return run
}

// judgeAttempt builds the verdict the runner would: the step ran at
// detection before the first alert's event time, each alert reached the
// harness 2 ms after its event.
func judgeAttempt(t *testing.T, sc *scenario.Scenario, n int, as attemptSpec, fallback time.Time) verdict.Verdict {
	t.Helper()
	var alerts []alert.Attributed
	for _, line := range as.lines {
		a := sampleAlert(t, as.file, line)
		a.ReceivedAt = a.EventTime().Add(2 * time.Millisecond)
		a.Transport = alert.TransportHTTP
		alerts = append(alerts, alert.Attributed{Alert: a, Phase: alert.PhaseSteps, Step: 1})
	}
	stepStart := fallback
	if len(alerts) > 0 {
		stepStart = alerts[0].EventTime().Add(-as.detection)
	}
	if as.barrier > 0 {
		b := sampleAlert(t, as.file, as.barrier)
		b.ReceivedAt = b.EventTime().Add(time.Millisecond)
		alerts = append(alerts, alert.Attributed{Alert: b, Phase: alert.PhaseBarrier, Step: 1})
	}
	steps := []verdict.StepResult{{
		Phase: alert.PhaseSteps, Index: 1, Run: sc.Steps[0].Run, User: "root", ExitCode: as.exit, Stderr: as.stderr,
		Start: stepStart, Duration: 60 * time.Millisecond,
	}}
	return verdict.Judge(verdict.Input{
		Scenario: sc,
		Attempt:  n,
		Alerts:   alerts,
		Steps:    steps,
		Drops:    as.drops,
		VictimID: "c373d3f043fb",
		Timings: verdict.Timings{
			Start: stepStart.Add(-700 * time.Millisecond), VictimStart: 450 * time.Millisecond, Steps: 60 * time.Millisecond,
			Barrier: 15 * time.Millisecond, VictimRemove: 120 * time.Millisecond, Total: 900 * time.Millisecond,
		},
	})
}

// golden compares got with the golden file, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./harness/report -update to create it): %v", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file %s (run go test ./harness/report -update if the change is intended)\n--- got ---\n%s", name, path, got)
	}
}
