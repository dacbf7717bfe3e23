package falco

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/attack-replay/attack-replay/harness/alert"
)

// realFalcoImage returns FALCO_IMAGE when it names an image present in the
// Docker engine, and skips the test otherwise. It never pulls.
func realFalcoImage(t *testing.T) string {
	t.Helper()
	img := os.Getenv(EnvImage)
	if img == "" {
		t.Skip("FALCO_IMAGE does not name an image present in the Docker engine (it is not set)")
	}
	cli, err := testcontainers.NewDockerClientWithOpts(context.Background())
	if err != nil {
		t.Skipf("FALCO_IMAGE does not name an image present in the Docker engine (engine not reachable: %v)", err)
	}
	defer cli.Close()
	if _, err := cli.ImageInspect(context.Background(), img); err != nil {
		t.Skipf("FALCO_IMAGE does not name an image present in the Docker engine (%q is absent)", img)
	}
	return img
}

// TestRealFalco runs the module against a real Falco: readiness by canary,
// an alert attributed by token through the real transport, a rules error
// at the recorded position, and the exit summary.
func TestRealFalco(t *testing.T) {
	img := realFalcoImage(t)
	ctx := context.Background()

	results, err := Validate(ctx, img, fixtures+"/validate/good.yaml", fixtures+"/validate/bad_cond.yaml")
	var rules *RulesError
	if !errors.As(err, &rules) || rules.Line != 3 || rules.Column != 14 || rules.Code != "LOAD_ERR_COMPILE_CONDITION" {
		t.Errorf("Validate(bad_cond.yaml) = %+v, %v; want LOAD_ERR_COMPILE_CONDITION at 3:14", results, err)
	}

	start := time.Now()
	c, err := Run(ctx, img, WithRules("testdata/rules/real.yaml"), WithLogger(tclog.TestLogger(t)))
	if c != nil {
		t.Cleanup(func() { _ = c.Terminate(context.Background()) })
	}
	if err != nil {
		t.Fatalf("run %s: %v", img, err)
	}
	t.Logf("falco %s ready in %s (transport %s, container fields %v, %s)", c.Version(), time.Since(start), c.Transport(), c.ContainerFields(), c.Privileges())

	rec := c.Hub().Track(c.GetContainerID(), "realtest")
	defer rec.Close()
	tok := alert.Token{Run: "realtest", Phase: alert.PhaseSteps, Step: 1}
	execIn(t, c, []string{alert.EnvToken + "=" + tok.String()}, falcoBinary, "--version")
	barrierRoundTrip(t, c, "real-barrier")
	var got []alert.Attributed
	for _, a := range rec.Alerts() {
		if a.Rule == "attack-replay test exec" {
			got = append(got, a)
		}
	}
	if len(got) != 1 || got[0].Phase != alert.PhaseSteps || got[0].Step != 1 || got[0].Fields[alert.FieldCmdline] == "" {
		t.Errorf("alerts of the test rule = %+v, want one attributed to steps/1", got)
	}
	if c.ContainerFields() && got != nil && got[0].ContainerID() == "" {
		t.Errorf("alert without container.id: %+v", got[0].Fields)
	}

	if err := c.Terminate(ctx); err != nil {
		t.Fatal(err)
	}
	if d := c.logs.dropLog(); !d.hasSummary {
		t.Errorf("no drop summary in Falco's exit output:\n%v", c.LogTail(30))
	}
	t.Logf("drops reported: %d (%d events)", c.Drops(), c.DroppedEvents())
}
