package runner

import (
	"context"
	"slices"

	"github.com/testcontainers/testcontainers-go"

	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// StartVictims returns a StartFunc that starts every victim from image with
// victim.Run and opts (privileges, network, ...), labelled with the run and
// scenario ids.
func StartVictims(image string, opts ...testcontainers.ContainerCustomizer) StartFunc {
	return func(ctx context.Context, sc *scenario.Scenario, runID string) (Victim, error) {
		all := append(slices.Clone(opts), victim.WithRunID(runID), victim.WithScenario(sc.ID))
		c, err := victim.Run(ctx, image, all...)
		if c == nil {
			// A nil *Container in a Victim would not compare equal to nil.
			return nil, err
		}
		return c, err
	}
}
