package session

import (
	"context"
	"os/exec"
	"runtime/debug"
	"strings"
	"time"

	"github.com/attack-replay/attack-replay/harness/report"
)

// toolInfo identifies the attack-replay build for the report: the module
// version and VCS revision Go stamped into the binary, else the checkout's
// commit (test binaries carry no VCS stamp).
func toolInfo(ctx context.Context) report.Tool {
	var t report.Tool
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			t.Version = v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				t.Commit = s.Value
			}
		}
	}
	if t.Commit == "" {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output(); err == nil {
			t.Commit = strings.TrimSpace(string(out))
		}
	}
	return t
}
