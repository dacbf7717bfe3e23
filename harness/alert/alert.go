package alert

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/attack-replay/attack-replay/harness/rules"
)

// Names of the output fields the harness adds to every alert through Falco's
// append_output (see harness/falco), so an alert can be attributed whatever
// the rule's own output format says.
const (
	FieldContainerID   = "container.id"
	FieldContainerName = "container.name"
	FieldCmdline       = "proc.cmdline"
	FieldPID           = "proc.pid"
	FieldPPID          = "proc.ppid"
	FieldUser          = "user.name"
	FieldEventTime     = "evt.time"
	// FieldToken carries the AR_TOKEN environment variable of the process
	// ("%proc.env[AR_TOKEN]"); it works with or without container.* fields.
	FieldToken = "ar_token"
	// FieldBarrier carries the AR_BARRIER variable; only the barrier rule's
	// alerts have it set.
	FieldBarrier = "ar_barrier"
)

// AppendedField is one output field the harness adds to every syscall alert
// through Falco's append_output (Falco ≥ 0.39). harness/falco renders the
// list into its config; the scenario loader lets matchers name these fields
// whatever a rule's own output prints.
type AppendedField struct {
	Name string
	// Format is what Falco renders under Name for the harness's own fields
	// ("%proc.env[AR_TOKEN]"); empty for a Falco field appended as it is.
	Format string
	// Container marks the container.* fields: only a Falco with container
	// support has them (built in up to 0.40, the container plugin from 0.41).
	Container bool
}

// AppendedFields returns the fields the harness appends, in the order they
// are rendered: container fields, process and event fields, then the
// harness's own.
func AppendedFields() []AppendedField {
	return []AppendedField{
		{Name: FieldContainerID, Container: true},
		{Name: FieldContainerName, Container: true},
		{Name: "proc.name"},
		{Name: "proc.exepath"},
		{Name: FieldCmdline},
		{Name: FieldPID},
		{Name: FieldPPID},
		{Name: "proc.pname"},
		{Name: FieldUser},
		{Name: "user.uid"},
		{Name: "fd.name"},
		{Name: "evt.type"},
		{Name: FieldEventTime},
		{Name: FieldToken, Format: "%proc.env[" + EnvToken + "]"},
		{Name: FieldBarrier, Format: "%proc.env[" + EnvBarrier + "]"},
	}
}

// Environment variables the harness sets on every exec in a victim.
const (
	EnvToken   = "AR_TOKEN"
	EnvBarrier = "AR_BARRIER"
)

// BarrierRule is the name of the harness's own marker rule.
const BarrierRule = "attack-replay barrier"

// NA is how Falco prints a field with no value in text and gRPC output; JSON
// null values are normalised to it so both transports read the same.
const NA = "<NA>"

// Alert is one Falco alert, whatever transport brought it.
type Alert struct {
	Time     time.Time      // event time (Falco's "time")
	Rule     string         // rule name
	Priority rules.Priority // rule priority
	Source   string         // event source: "syscall", "internal", plugin names
	Output   string         // the rendered output line (never the JSON envelope)
	// Fields are Falco's output_fields as strings: JSON numbers keep every
	// digit (evt.time does not fit a float64), JSON null becomes NA.
	Fields     map[string]string
	Tags       []string
	Hostname   string
	ReceivedAt time.Time // when the harness received it
	Transport  string    // "grpc", "http" or "replay"
}

// Field returns an output field and whether Falco sent it.
func (a Alert) Field(name string) (string, bool) {
	v, ok := a.Fields[name]
	return v, ok
}

// Clone returns a copy of a whose Fields and Tags can be changed without
// touching a's (replayed samples are rewritten per test).
func (a Alert) Clone() Alert {
	if a.Fields != nil {
		f := make(map[string]string, len(a.Fields))
		for k, v := range a.Fields {
			f[k] = v
		}
		a.Fields = f
	}
	if a.Tags != nil {
		a.Tags = append([]string(nil), a.Tags...)
	}
	return a
}

// ContainerID is Falco's container.id (the 12-character short id, "host"
// for host processes), or "" when Falco gave none.
func (a Alert) ContainerID() string {
	if v, ok := a.Fields[FieldContainerID]; ok && v != NA {
		return v
	}
	return ""
}

// Token is the harness token of the process that raised the alert, if any.
func (a Alert) Token() (Token, bool) {
	v, ok := a.Fields[FieldToken]
	if !ok || v == "" || v == NA {
		return Token{}, false
	}
	t, err := ParseToken(v)
	return t, err == nil
}

// EventTime is the kernel event time: evt.time when present (nanoseconds),
// else Time.
func (a Alert) EventTime() time.Time {
	if v, ok := a.Fields[FieldEventTime]; ok {
		if ns, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Unix(0, ns).UTC()
		}
	}
	return a.Time
}

// Source delivers Falco alerts in the order Falco emitted them.
type Source interface {
	// Run delivers alerts to deliver until ctx is done (returns ctx.Err())
	// or the source fails (returns why). deliver must not block for long.
	Run(ctx context.Context, deliver func(Alert)) error
}

// Phase tells which part of a scenario run a process belonged to.
type Phase string

// Phases of a scenario run, in order.
const (
	PhaseSetup   Phase = "setup"
	PhaseSteps   Phase = "steps"
	PhaseBarrier Phase = "barrier"
	PhaseCleanup Phase = "cleanup"
)

// Token identifies one exec of one scenario attempt: the harness sets it as
// AR_TOKEN on every exec, Falco reports it through append_output, and the
// hub routes alerts by it. Its text form is "<run>/<phase>/<step>", where run
// is unique per scenario attempt and step is 1-based.
type Token struct {
	Run   string
	Phase Phase
	Step  int
}

func (t Token) String() string { return fmt.Sprintf("%s/%s/%d", t.Run, t.Phase, t.Step) }

// ParseToken reads the text form of a Token.
func ParseToken(s string) (Token, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || parts[0] == "" {
		return Token{}, fmt.Errorf("parse token %q: want run/phase/step", s)
	}
	step, err := strconv.Atoi(parts[2])
	if err != nil {
		return Token{}, fmt.Errorf("parse token %q: step: %w", s, err)
	}
	switch p := Phase(parts[1]); p {
	case PhaseSetup, PhaseSteps, PhaseBarrier, PhaseCleanup:
		return Token{Run: parts[0], Phase: p, Step: step}, nil
	}
	return Token{}, fmt.Errorf("parse token %q: unknown phase %q", s, parts[1])
}
