package session

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/linux"
	"github.com/attack-replay/attack-replay/harness/runner"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// Defaults of the configuration (README: Configuration).
const (
	DefaultFalcoImage  = "falcosecurity/falco:0.43.1" // the newest official image that still serves gRPC
	DefaultRules       = "rules/"
	DefaultScenarios   = "scenarios/"
	DefaultReportDir   = "reports"
	DefaultVictimImage = victim.DefaultImage
	DefaultToolsImage  = victim.DefaultToolsImage
)

// NoGrace as Config.Grace waits for nothing after the barrier.
const NoGrace time.Duration = -1

// Config is everything a run can be told, from the environment.
type Config struct {
	FalcoImage       string
	FalcoTransport   falco.Transport
	FalcoPrivileges  falco.Privileges
	FalcoImageRules  bool // load the image's falco_rules.yaml first, for its macros and lists
	FalcoStartup     time.Duration
	FalcoExtraHosts  []string // /etc/hosts entries of the Falco container, "name:ip"
	VictimImage      string
	VictimToolsImage string // the image of victim: {image: tools}
	VictimPrivileges victim.Privileges
	Rules            []string // candidate rules files or directories, in load order
	Scenarios        string
	Selection        scenario.Selection // TECHNIQUES and TACTICS: the scenarios to replay
	Workers          int
	Repeat           int
	ReportDir        string        // "": no reports written
	BarrierTimeout   time.Duration // 0: the runner's default
	Grace            time.Duration // 0: the runner's default; NoGrace: none
}

// FromEnv reads the configuration (README: Configuration); an unset or
// blank variable takes its default, white space around a value is ignored.
// Every malformed value is reported in one error, one per line, naming its
// variable and what it accepts.
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	c := Config{
		FalcoImage:       or(get("FALCO_IMAGE"), DefaultFalcoImage),
		FalcoTransport:   falco.TransportAuto,
		FalcoPrivileges:  falco.PrivilegesAuto,
		FalcoStartup:     falco.DefaultStartupTimeout,
		VictimImage:      or(get("VICTIM_IMAGE"), DefaultVictimImage),
		VictimToolsImage: or(get("VICTIM_TOOLS_IMAGE"), DefaultToolsImage),
		VictimPrivileges: victim.PrivilegesAuto,
		Rules:            splitList(or(get("RULES"), DefaultRules)),
		Scenarios:        or(get("SCENARIOS"), DefaultScenarios),
		ReportDir:        or(get("REPORT_DIR"), DefaultReportDir),
		Workers:          runtime.NumCPU(),
		Repeat:           1,
	}
	var errs []string
	bad := func(name, value, want string) {
		errs = append(errs, fmt.Sprintf("%s=%q: %s", name, value, want))
	}
	if v := get("FALCO_TRANSPORT"); v != "" {
		if t, err := falco.ParseTransport(v); err != nil {
			bad("FALCO_TRANSPORT", v, "want auto, grpc or http")
		} else {
			c.FalcoTransport = t
		}
	}
	if v := get("FALCO_PRIVILEGES"); v != "" {
		switch p := falco.Privileges(strings.ToLower(v)); p {
		case falco.PrivilegesAuto, falco.PrivilegesPrivileged, falco.PrivilegesCapabilities:
			c.FalcoPrivileges = p
		default:
			bad("FALCO_PRIVILEGES", v, "want auto, privileged or capabilities")
		}
	}
	if v := get("VICTIM_PRIVILEGES"); v != "" {
		if p, err := victim.ParsePrivileges(v); err != nil {
			bad("VICTIM_PRIVILEGES", v, "want auto, privileged or default")
		} else {
			c.VictimPrivileges = p
		}
	}
	if v := get("FALCO_EXTRA_HOSTS"); v != "" {
		for _, h := range splitList(v) {
			e, err := linux.ParseHostEntry(h)
			if err != nil {
				bad("FALCO_EXTRA_HOSTS", v, fmt.Sprintf("want a comma-separated list of %s (%v)", linux.HostEntryForm, err))
				c.FalcoExtraHosts = nil
				break
			}
			c.FalcoExtraHosts = append(c.FalcoExtraHosts, e.String())
		}
	}
	if v := get("FALCO_IMAGE_RULES"); v != "" {
		if b, err := strconv.ParseBool(v); err != nil {
			bad("FALCO_IMAGE_RULES", v, "want true or false")
		} else {
			c.FalcoImageRules = b
		}
	}
	positive := func(name string, dst *int) {
		if v := get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				bad(name, v, "want a whole number of at least 1")
				return
			}
			*dst = n
		}
	}
	positive("WORKERS", &c.Workers)
	positive("REPEAT", &c.Repeat)
	duration := func(name string, dst *time.Duration) {
		if v := get(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				bad(name, v, "want a positive duration such as 30s or 2m")
				return
			}
			*dst = d
		}
	}
	// Checked here, not only as a Ginkgo label filter: a mistyped id would
	// select nothing and the run would pass.
	if sel, err := scenario.ParseSelection(get("TECHNIQUES"), ""); err != nil {
		bad("TECHNIQUES", get("TECHNIQUES"), "want ATT&CK technique ids such as T1490,T1003.008: "+strings.TrimPrefix(err.Error(), "parse selection: "))
	} else {
		c.Selection.Techniques = sel.Techniques
	}
	if sel, err := scenario.ParseSelection("", get("TACTICS")); err != nil {
		bad("TACTICS", get("TACTICS"), "want ATT&CK tactics such as impact,persistence: "+strings.TrimPrefix(err.Error(), "parse selection: "))
	} else {
		c.Selection.Tactics = sel.Tactics
	}
	duration("FALCO_STARTUP_TIMEOUT", &c.FalcoStartup)
	duration("BARRIER_TIMEOUT", &c.BarrierTimeout)
	// The grace period is for safety only: 0 turns it off.
	if v := get("BARRIER_GRACE"); v != "" {
		switch d, err := time.ParseDuration(v); {
		case err != nil || d < 0:
			bad("BARRIER_GRACE", v, "want a duration such as 50ms, or 0 for none")
		case d == 0:
			c.Grace = NoGrace
		default:
			c.Grace = d
		}
	}
	if len(errs) > 0 {
		return c, &ConfigError{Problems: errs}
	}
	return c, nil
}

// ConfigError lists every problem of a configuration, one per variable.
type ConfigError struct {
	Problems []string // `NAME="value": what it accepts`
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("read configuration: %d malformed variable(s):\n  %s", len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// Check reads the configuration (FromEnv) and checks, within a second and
// before anything is started, what the environment must allow: that
// REPORT_DIR can be written. Its error is a *ConfigError naming every bad
// variable.
func Check(getenv func(string) string) (Config, error) {
	c, err := FromEnv(getenv)
	var problems []string
	var ce *ConfigError
	if errors.As(err, &ce) {
		problems = ce.Problems
	} else if err != nil {
		return c, err
	}
	if err := CheckReportDir(c.ReportDir); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return c, &ConfigError{Problems: problems}
	}
	return c, nil
}

// CheckReportDir makes sure the reports can be written into dir: it creates
// dir and writes and removes a probe file there, so that a run never ends
// without its reports. "" (no reports) passes.
func CheckReportDir(dir string) error {
	if dir == "" {
		return nil
	}
	probe := func() error {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		f, err := os.CreateTemp(dir, ".attack-replay-probe-*")
		if err != nil {
			return err
		}
		_, werr := f.WriteString("probe\n")
		cerr := f.Close()
		rerr := os.Remove(f.Name())
		return errors.Join(werr, cerr, rerr)
	}
	if err := probe(); err != nil {
		return fmt.Errorf("REPORT_DIR=%q: cannot write reports there (%v); set REPORT_DIR to a directory you can write", dir, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops an *os.PathError's op and path, which the message
// already names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Victims is how the run starts victims: its two images and privilege mode.
func (c Config) Victims() runner.Victims {
	return runner.Victims{Image: c.VictimImage, ToolsImage: c.VictimToolsImage, Privileges: c.VictimPrivileges}
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// splitList splits RULES on commas and white space: "rules/ extra.yaml".
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}
