package session_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/attack"
	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/session"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestFromEnvDefaults(t *testing.T) {
	got, err := session.FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := session.Config{
		FalcoImage:       "falcosecurity/falco:0.43.1",
		FalcoTransport:   falco.TransportAuto,
		FalcoPrivileges:  falco.PrivilegesAuto,
		FalcoStartup:     falco.DefaultStartupTimeout,
		VictimImage:      "attack-replay/victim:bookworm",
		VictimToolsImage: "attack-replay/victim:tools",
		VictimPrivileges: victim.PrivilegesAuto,
		Rules:            []string{"rules/"},
		Scenarios:        "scenarios/",
		Workers:          runtime.NumCPU(),
		Repeat:           1,
		ReportDir:        "reports",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromEnv() =\n%+v\nwant\n%+v", got, want)
	}
	// Blank is unset.
	blank, err := session.FromEnv(func(string) string { return "  " })
	if err != nil || !reflect.DeepEqual(blank, want) {
		t.Errorf("FromEnv(blank) = %+v, %v; want the defaults", blank, err)
	}
}

func TestFromEnvEveryVariable(t *testing.T) {
	got, err := session.FromEnv(env(map[string]string{
		"FALCO_IMAGE":           "falcosecurity/falco:0.44.1",
		"FALCO_TRANSPORT":       "HTTP",
		"FALCO_PRIVILEGES":      "capabilities",
		"FALCO_IMAGE_RULES":     "true",
		"FALCO_STARTUP_TIMEOUT": "90s",
		"FALCO_EXTRA_HOSTS":     "kubernetes.default.svc.cluster.local:127.0.0.1, metadata.test:198.51.100.9",
		"VICTIM_IMAGE":          " my/victim:1 ",
		"VICTIM_TOOLS_IMAGE":    "my/victim:tools",
		"VICTIM_PRIVILEGES":     "default",
		"RULES":                 "rules/, extra.yaml\tmore/",
		"SCENARIOS":             "mine/",
		"WORKERS":               "3",
		"REPEAT":                "4",
		"REPORT_DIR":            "out",
		"BARRIER_TIMEOUT":       "2m",
		"BARRIER_GRACE":         "200ms",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := session.Config{
		FalcoImage:       "falcosecurity/falco:0.44.1",
		FalcoTransport:   falco.TransportHTTP,
		FalcoPrivileges:  falco.PrivilegesCapabilities,
		FalcoImageRules:  true,
		FalcoStartup:     90 * time.Second,
		FalcoExtraHosts:  []string{"kubernetes.default.svc.cluster.local:127.0.0.1", "metadata.test:198.51.100.9"},
		VictimImage:      "my/victim:1",
		VictimToolsImage: "my/victim:tools",
		VictimPrivileges: victim.PrivilegesDefault,
		Rules:            []string{"rules/", "extra.yaml", "more/"},
		Scenarios:        "mine/",
		Workers:          3,
		Repeat:           4,
		ReportDir:        "out",
		BarrierTimeout:   2 * time.Minute,
		Grace:            200 * time.Millisecond,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromEnv() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestFromEnvNoGrace(t *testing.T) {
	got, err := session.FromEnv(env(map[string]string{"BARRIER_GRACE": "0"}))
	if err != nil || got.Grace != session.NoGrace {
		t.Errorf("BARRIER_GRACE=0: grace %v, %v; want NoGrace", got.Grace, err)
	}
}

func TestFromEnvEveryMalformedValue(t *testing.T) {
	malformed := map[string]string{
		"FALCO_TRANSPORT":       "pigeon",
		"FALCO_PRIVILEGES":      "root",
		"FALCO_IMAGE_RULES":     "maybe",
		"FALCO_STARTUP_TIMEOUT": "-1s",
		"FALCO_EXTRA_HOSTS":     "a:127.0.0.1,kubernetes.default.svc.cluster.local",
		"VICTIM_PRIVILEGES":     "all",
		"WORKERS":               "0",
		"REPEAT":                "two",
		"BARRIER_TIMEOUT":       "10",
		"BARRIER_GRACE":         "-5ms",
	}
	in := map[string]string{"FALCO_IMAGE": "falcosecurity/falco:0.44.1"}
	for k, v := range malformed {
		in[k] = v
	}
	_, err := session.FromEnv(env(in))
	if err == nil {
		t.Fatal("FromEnv accepted malformed values")
	}
	t.Logf("error:\n%v", err)
	msg := err.Error()
	lines := strings.Split(msg, "\n")
	if len(lines) != 1+len(malformed) || !strings.HasPrefix(lines[0], "read configuration: 10 malformed variable(s):") {
		t.Errorf("want a headline and one line per malformed variable, got %d lines", len(lines))
	}
	for k, v := range malformed {
		if !strings.Contains(msg, k+"="+`"`+v+`": want `) {
			t.Errorf("error does not name %s=%q with what it accepts", k, v)
		}
	}
	if strings.Contains(msg, "FALCO_IMAGE=") {
		t.Error("error names FALCO_IMAGE, which is well-formed")
	}
	if !strings.Contains(msg, `(host entry "kubernetes.default.svc.cluster.local" has no ip)`) {
		t.Error("FALCO_EXTRA_HOSTS error does not say which entry is wrong")
	}
}

func TestFromEnvSelection(t *testing.T) {
	got, err := session.FromEnv(env(map[string]string{"TECHNIQUES": "T1490, T1003", "TACTICS": "impact"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []attack.TechniqueID{"T1490", "T1003"}; !slices.Equal(got.Selection.Techniques, want) {
		t.Errorf("techniques = %q, want %q", got.Selection.Techniques, want)
	}
	if want := []attack.Tactic{"impact"}; !slices.Equal(got.Selection.Tactics, want) {
		t.Errorf("tactics = %q, want %q", got.Selection.Tactics, want)
	}
	// A typo must stop the run instead of selecting nothing.
	_, err = session.FromEnv(env(map[string]string{"TECHNIQUES": "T1409", "TACTICS": "impakt"}))
	if err == nil {
		t.Fatal("an unknown technique and tactic were accepted")
	}
	for _, want := range []string{`TECHNIQUES="T1409": want ATT&CK technique ids`, `TACTICS="impakt": want ATT&CK tactics`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestCheckReportDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "reports")
	cfg, err := session.Check(env(map[string]string{"REPORT_DIR": dir}))
	if err != nil {
		t.Fatalf("Check(REPORT_DIR=%s) = %v", dir, err)
	}
	entries, err := os.ReadDir(cfg.ReportDir)
	if err != nil || len(entries) != 0 {
		t.Errorf("REPORT_DIR after the check: %v %v, want it created and empty (the probe removed)", entries, err)
	}

	// A directory that cannot be created, and bad values of other
	// variables: every one is named at once.
	_, err = session.Check(env(map[string]string{"REPORT_DIR": "/proc/x", "WORKERS": "zero", "BARRIER_GRACE": "soon", "TECHNIQUES": "T1490,T9999"}))
	var ce *session.ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 4 {
		t.Fatalf("Check = %v, want a *ConfigError with 4 problems", err)
	}
	for i, want := range []string{`WORKERS="zero": want a whole number`, `TECHNIQUES="T1490,T9999": want ATT&CK technique ids such as T1490,T1003.008: technique T9999 is not in ATT&CK`,
		`BARRIER_GRACE="soon": want a duration`, `REPORT_DIR="/proc/x": cannot write reports there (`} {
		if !strings.HasPrefix(ce.Problems[i], want) {
			t.Errorf("problem %d = %q, want prefix %q", i, ce.Problems[i], want)
		}
	}

	// A file in the way.
	file := filepath.Join(t.TempDir(), "reports")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := session.CheckReportDir(file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("CheckReportDir(a file) = %v, want it refused", err)
	}
}
