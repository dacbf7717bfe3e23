//go:build !rules

package techniques

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runMake runs `make test-rules` in the repository root with the given
// variables and returns its output; the run must fail.
func runMake(t *testing.T, vars ...string) string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make on this machine")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", append([]string{"--no-print-directory", "test-rules"}, vars...)...)
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("make test-rules %s passed:\n%s", strings.Join(vars, " "), out)
	}
	return string(out)
}

// TestTestRulesChecksConfigurationFirst: bad variables and an unwritable
// REPORT_DIR stop `make test-rules` before the Falco image is looked for,
// each named.
func TestTestRulesChecksConfigurationFirst(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: builds the CLI")
	}
	out := runMake(t, "WORKERS=zero", "REPORT_DIR=/proc/attack-replay", "BARRIER_GRACE=soon", "TECHNIQUES=T1490,T1562.001",
		"FALCO_IMAGE=attack-replay/no-such-falco:config-first")
	for _, want := range []string{`WORKERS="zero"`, `REPORT_DIR="/proc/attack-replay"`, `BARRIER_GRACE="soon"`,
		`TECHNIQUES="T1490,T1562.001"`, "renumbered it T1685", "4 bad variables; nothing was started"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "no-such-falco") {
		t.Errorf("the Falco image was looked for before the configuration was checked:\n%s", out)
	}
}

// TestTestRulesMissingImageMessage: the message for a missing Falco image
// names FALCO_IMAGE and never suggests the image that just failed.
func TestTestRulesMissingImageMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: builds the CLI")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skipf("no Docker engine: %v", err)
	}
	image := "attack-replay/no-such-falco:missing-image"
	out := runMake(t, "FALCO_IMAGE="+image, "REPORT_DIR="+t.TempDir())
	if !strings.Contains(out, `Falco image "`+image+`" is not in the Docker engine`) || !strings.Contains(out, "FALCO_IMAGE") {
		t.Errorf("output does not say the image is missing, naming FALCO_IMAGE:\n%s", out)
	}
	if strings.Contains(out, "FALCO_IMAGE="+image) {
		t.Errorf("output suggests the image that just failed:\n%s", out)
	}
}

// TestCheckRequirementsNamesWhatIsMissing runs scripts/check-requirements.sh
// (what `make test` runs first) with a PATH that lacks chromium and
// debootstrap, then with a Docker CLI whose engine does not answer: each
// missing thing is named with the command that installs it.
func TestCheckRequirementsNamesWhatIsMissing(t *testing.T) {
	bin := t.TempDir()
	for _, tool := range []string{"bash", "docker", "timeout", "id", "env"} {
		path, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("no %s here: %v", tool, err)
		}
		if err := os.Symlink(path, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "check-requirements.sh"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(env ...string) (string, error) {
		cmd := exec.Command(filepath.Join(bin, "bash"), script)
		cmd.Env = append([]string{"PATH=" + bin, "HOME=" + t.TempDir()}, env...)
		if host := os.Getenv("DOCKER_HOST"); host != "" {
			cmd.Env = append(cmd.Env, "DOCKER_HOST="+host)
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	if err := exec.Command("docker", "info").Run(); err == nil {
		out, err := run("VICTIM_IMAGE=attack-replay/no-such-victim:requirements", "VICTIM_BUILD=offline")
		for _, want := range []string{"chromium (report.html is checked in a real headless browser): apt-get install chromium",
			"debootstrap (the victim image attack-replay/no-such-victim:requirements", "apt-get install debootstrap"} {
			if err == nil || !strings.Contains(out, want) {
				t.Errorf("err %v, output lacks %q:\n%s", err, want, out)
			}
		}
	} else {
		t.Logf("no Docker engine here (%v): only the engine check is tested", err)
	}

	// A Docker CLI whose engine does not answer.
	if err := os.Remove(filepath.Join(bin, "docker")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte("#!"+filepath.Join(bin, "bash")+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := run()
	if err == nil || !strings.Contains(out, "a running Docker engine") || !strings.Contains(out, "systemctl start docker") {
		t.Errorf("engine down: err %v, output:\n%s", err, out)
	}
}
