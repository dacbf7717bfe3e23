package session

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// Load reads the candidate rules and the scenarios checked against them.
// Every problem of both comes back in one error, one per line.
func Load(cfg Config) (*rules.Index, *scenario.Set, error) {
	var lines []string
	idx, err := rules.LoadPaths(cfg.Rules...)
	lines = appendProblems(lines, err, func(e *rules.LoadError) []string {
		out := make([]string, len(e.Problems))
		for i, p := range e.Problems {
			out[i] = p.String()
		}
		return out
	})
	set, err := scenario.LoadDir(cfg.Scenarios, scenario.Options{Rules: idx})
	lines = appendProblems(lines, err, func(e *scenario.LoadError) []string {
		out := make([]string, len(e.Problems))
		for i, p := range e.Problems {
			out[i] = p.String()
		}
		return out
	})
	if len(lines) > 0 {
		return idx, set, fmt.Errorf("load rules %s and scenarios %s: %d problem(s):\n%s",
			strings.Join(cfg.Rules, " "), cfg.Scenarios, len(lines), strings.Join(lines, "\n"))
	}
	return idx, set, nil
}

func appendProblems[E error](lines []string, err error, each func(E) []string) []string {
	if err == nil {
		return lines
	}
	var typed E
	if errors.As(err, &typed) {
		return append(lines, each(typed)...)
	}
	return append(lines, err.Error())
}

// Preflight checks, within seconds, what a run needs before anything
// starts: the Falco image (the error names FALCO_IMAGE) and the victim image
// (it names VICTIM_IMAGE and make victim-image).
func Preflight(ctx context.Context, cfg Config) error {
	if err := falco.CheckImage(ctx, cfg.FalcoImage); err != nil {
		return err
	}
	ok, err := victim.ImagePresent(ctx, cfg.VictimImage)
	if err != nil {
		return fmt.Errorf("check victim image: %w", err)
	}
	if !ok {
		return fmt.Errorf("check victim image: %w: %q is not in the Docker engine: build it with `make victim-image`, or set %s to an image that is",
			victim.ErrImageMissing, cfg.VictimImage, victim.ImageEnv)
	}
	return nil
}
