package falcotest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/falco/falcotest"
)

// The images themselves are tested by harness/falco's tests, which run the
// module against them; these are the errors a caller can make.
func TestBuildStandinRejects(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := falcotest.BuildStandin(ctx, " "); err == nil || !strings.Contains(err.Error(), "want one such as 0.43.1") {
		t.Errorf("blank version: %v", err)
	}
	_, err := falcotest.BuildStandin(ctx, "0.43.1", falcotest.WithReplay("no-such-recording.stderr"))
	if errors.Is(err, falcotest.ErrEngineUnreachable) {
		t.Skipf("docker engine not reachable: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), `replay "no-such-recording.stderr": no such recording in fixtures/falco/logs`) {
		t.Errorf("absent recording: %v", err)
	}
	if err := falcotest.Remove(ctx, falcotest.Repository+":no-such-tag"); err == nil || !strings.Contains(err.Error(), falcotest.Repository+":no-such-tag") {
		t.Errorf("Remove of an absent image: %v", err)
	}
}
