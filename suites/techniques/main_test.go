package techniques

import (
	"os"
	"testing"

	tclog "github.com/testcontainers/testcontainers-go/log"
)

// TestMain disables testcontainers' reaper unless the user chose otherwise:
// its image cannot be pulled everywhere, and the harness labels and removes
// every container it starts itself. Testcontainers' per-container log lines
// are dropped: the verdicts say what each container did.
func TestMain(m *testing.M) {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	tclog.SetDefault(tclog.NewNoopLogger())
	os.Exit(m.Run())
}
