package session

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// Defaults of the configuration (README: Configuration).
const (
	DefaultFalcoImage  = "falcosecurity/falco:0.43.1" // the newest official image that still serves gRPC
	DefaultRules       = "rules/"
	DefaultScenarios   = "scenarios/"
	DefaultReportDir   = "reports"
	DefaultVictimImage = victim.DefaultImage
)

// Config is everything a run can be told, from the environment.
type Config struct {
	FalcoImage       string
	FalcoTransport   falco.Transport
	FalcoPrivileges  falco.Privileges
	FalcoImageRules  bool // load the image's falco_rules.yaml first, for its macros and lists
	FalcoStartup     time.Duration
	VictimImage      string
	VictimPrivileges victim.Privileges
	Rules            []string // candidate rules files or directories, in load order
	Scenarios        string
	Workers          int
	Repeat           int
	ReportDir        string
	BarrierTimeout   time.Duration // 0: the runner's default
	Grace            time.Duration // 0: the runner's default
}

// FromEnv reads the configuration; an unset or empty variable takes its
// default. Every malformed value is reported, naming its variable.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		FalcoImage:   or(getenv("FALCO_IMAGE"), DefaultFalcoImage),
		VictimImage:  or(getenv("VICTIM_IMAGE"), DefaultVictimImage),
		Rules:        splitList(or(getenv("RULES"), DefaultRules)),
		Scenarios:    or(getenv("SCENARIOS"), DefaultScenarios),
		ReportDir:    or(getenv("REPORT_DIR"), DefaultReportDir),
		Workers:      runtime.NumCPU(),
		Repeat:       1,
		FalcoStartup: falco.DefaultStartupTimeout,
	}
	var errs []string
	bad := func(name, value, want string) {
		errs = append(errs, fmt.Sprintf("%s=%q: %s", name, value, want))
	}
	if v := getenv("FALCO_TRANSPORT"); v != "" {
		t, err := falco.ParseTransport(v)
		if err != nil {
			bad("FALCO_TRANSPORT", v, "want auto, grpc or http")
		}
		c.FalcoTransport = t
	} else {
		c.FalcoTransport = falco.TransportAuto
	}
	c.FalcoPrivileges = falco.PrivilegesAuto
	if v := getenv("FALCO_PRIVILEGES"); v != "" {
		switch p := falco.Privileges(v); p {
		case falco.PrivilegesAuto, falco.PrivilegesPrivileged, falco.PrivilegesCapabilities:
			c.FalcoPrivileges = p
		default:
			bad("FALCO_PRIVILEGES", v, "want auto, privileged or capabilities")
		}
	}
	c.VictimPrivileges = victim.PrivilegesAuto
	if v := getenv("VICTIM_PRIVILEGES"); v != "" {
		p, err := victim.ParsePrivileges(v)
		if err != nil {
			bad("VICTIM_PRIVILEGES", v, "want auto, privileged or default")
		}
		c.VictimPrivileges = p
	}
	if v := getenv("FALCO_IMAGE_RULES"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("FALCO_IMAGE_RULES", v, "want true or false")
		}
		c.FalcoImageRules = b
	}
	positive := func(name string, dst *int) {
		if v := getenv(name); v != "" {
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
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				bad(name, v, "want a positive duration such as 30s or 2m")
				return
			}
			*dst = d
		}
	}
	duration("FALCO_STARTUP_TIMEOUT", &c.FalcoStartup)
	duration("BARRIER_TIMEOUT", &c.BarrierTimeout)
	duration("BARRIER_GRACE", &c.Grace)
	if len(errs) > 0 {
		return c, fmt.Errorf("read configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

func or(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return strings.TrimSpace(v)
}

// splitList splits RULES on commas and white space: "rules/ extra.yaml".
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}
