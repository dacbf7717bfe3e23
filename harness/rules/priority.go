package rules

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Priority is a Falco rule priority (severity). Falco orders them from
// Emergency (most severe) to Debug; the numeric value follows syslog, so a
// smaller value is more severe.
type Priority int

// Falco's priorities, in Falco's own order.
const (
	Emergency Priority = iota
	Alert
	Critical
	Error
	Warning
	Notice
	Informational
	Debug
)

var priorityNames = [...]string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"}

// String returns the priority as Falco's JSON output spells it ("Critical").
func (p Priority) String() string {
	if p < Emergency || p > Debug {
		return fmt.Sprintf("Priority(%d)", int(p))
	}
	return priorityNames[p]
}

// ParsePriority accepts every spelling Falco accepts or emits: rule files use
// upper or lower case ("CRITICAL", "info"), JSON alerts use "Critical", gRPC
// uses the enum name ("WARNING", "INFORMATIONAL").
func ParsePriority(s string) (Priority, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "emergency":
		return Emergency, nil
	case "alert":
		return Alert, nil
	case "critical":
		return Critical, nil
	case "error":
		return Error, nil
	case "warning", "warn":
		return Warning, nil
	case "notice":
		return Notice, nil
	case "informational", "info":
		return Informational, nil
	case "debug":
		return Debug, nil
	}
	return 0, fmt.Errorf("unknown priority %q (use one of EMERGENCY, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFORMATIONAL, DEBUG)", s)
}

// UnmarshalYAML rejects priorities Falco does not know.
func (p *Priority) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParsePriority(n.Value)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// MarshalYAML writes the upper-case spelling rule files use.
func (p Priority) MarshalYAML() (any, error) { return strings.ToUpper(p.String()), nil }

// MarshalText writes the JSON spelling ("Critical").
func (p Priority) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText accepts any spelling ParsePriority accepts.
func (p *Priority) UnmarshalText(b []byte) error {
	v, err := ParsePriority(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}
