package runner

import (
	"context"
	"slices"
	"strings"

	"github.com/testcontainers/testcontainers-go"

	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// Victims says how StartVictims starts victims: the run's two images, its privilege mode and
// options every victim gets; each scenario's victim: shapes its own on top.
type Victims struct {
	Image      string            // the default image ("" = victim.ImageFromEnv())
	ToolsImage string            // victim: {image: tools} ("" = victim.ToolsImageFromEnv())
	Privileges victim.Privileges // the run's mode (VICTIM_PRIVILEGES; "" = auto)
	// Options are added to every victim (a logger, say) before the
	// scenario's shape.
	Options []testcontainers.ContainerCustomizer
}

// ImageFor is the image a scenario's victim runs: its victim.image, with the aliases
// "default" and "tools" resolved to the run's images.
func (v Victims) ImageFor(sc *scenario.Scenario) string {
	switch img := sc.Victim.Image; img {
	case "", scenario.ImageDefault:
		if v.Image != "" {
			return v.Image
		}
		return victim.ImageFromEnv()
	case scenario.ImageTools:
		if v.ToolsImage != "" {
			return v.ToolsImage
		}
		return victim.ToolsImageFromEnv()
	default:
		return img
	}
}

// options are the victim options of one scenario: the run's, then the scenario's shape (no
// network where it names none).
// privileged: true asks for PrivilegesAuto (privileged where the engine grants it, else the
// widest capability set) unless the run insists on privileged.
func (v Victims) options(sc *scenario.Scenario, runID string) []testcontainers.ContainerCustomizer {
	shape := sc.Victim
	mode := v.Privileges
	if mode == "" || (shape.Privileged && mode != victim.PrivilegesPrivileged) {
		mode = victim.PrivilegesAuto
	}
	opts := append(slices.Clone(v.Options), victim.WithPrivileges(mode))
	if len(shape.CapAdd) > 0 {
		opts = append(opts, victim.WithCapabilities(shape.CapAdd...))
	}
	if len(shape.CapDrop) > 0 {
		opts = append(opts, victim.WithoutCapabilities(shape.CapDrop...))
	}
	if len(shape.ExtraHosts) > 0 {
		opts = append(opts, victim.WithExtraHosts(shape.ExtraHosts...))
	}
	if shape.ReadOnly {
		opts = append(opts, victim.WithReadOnlyRoot())
	}
	// No network unless the scenario asks for one: Falco sees the same
	// processes and files, loopback still works, and the engine skips the
	// veth pair and bridge port that make starting and removing a victim
	// slower.
	network := shape.Network
	if network == "" {
		network = scenario.NetworkNone
	}
	opts = append(opts, victim.WithNetworkMode(network))
	return append(opts, victim.WithRunID(runID), victim.WithScenario(sc.ID))
}

// StartVictims returns a StartFunc that starts each scenario's victim with victim.Run, shaped
// the way the scenario's victim: asks and labelled with the run and scenario ids. A victim
// that asked for privileges it did not get says so in its Notes, which the verdict carries.
func StartVictims(v Victims) StartFunc {
	return func(ctx context.Context, sc *scenario.Scenario, runID string) (Victim, error) {
		c, err := victim.Run(ctx, v.ImageFor(sc), v.options(sc, runID)...)
		if c == nil {
			// A nil *Container in a Victim would not compare equal to nil.
			return nil, err
		}
		return &shaped{Container: c, notes: shapeNotes(sc, c)}, err
	}
}

// Noter is a victim that says how it differs from what its scenario asked (the victims of
// StartVictims; wrappers such as runnertest's pass it on).
type Noter interface {
	Notes() []string
}

// shaped is a victim with what the engine did not give it.
type shaped struct {
	*victim.Container
	notes []string
}

func (s *shaped) Notes() []string { return slices.Clone(s.notes) }

// shapeNotes says how a victim that asked to be privileged is not: the engine refused
// privileged containers, or the scenario drops capabilities, which a privileged container
// cannot.
func shapeNotes(sc *scenario.Scenario, c *victim.Container) []string {
	if !sc.Victim.Privileged || c.Privileges() == victim.PrivilegesPrivileged {
		return nil
	}
	var why []string
	if refused := c.DroppedCapabilities(); len(refused) > 0 {
		why = append(why, "the engine refuses privileged containers, so it lacks "+strings.Join(refused, ", "))
	}
	if drop := sc.Victim.CapDrop; len(drop) > 0 {
		why = append(why, "it drops "+strings.Join(drop, ", ")+" as the scenario asks, which a privileged container cannot")
	}
	if len(why) == 0 {
		why = append(why, "it runs "+string(c.Privileges()))
	}
	return []string{"privileged: true, but the victim is not privileged: " + strings.Join(why, "; ") +
		"; it holds every other capability, with seccomp and AppArmor unconfined"}
}
