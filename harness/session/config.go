package session

import (
	"fmt"
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
	if sel, err := scenario.ParseSelection(get("TECHNIQUES"), get("TACTICS")); err != nil {
		bad("TECHNIQUES/TACTICS", get("TECHNIQUES")+" "+get("TACTICS"), strings.TrimPrefix(err.Error(), "parse selection: "))
	} else {
		c.Selection = sel
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
		return c, fmt.Errorf("read configuration: %d malformed variable(s):\n  %s", len(errs), strings.Join(errs, "\n  "))
	}
	return c, nil
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
