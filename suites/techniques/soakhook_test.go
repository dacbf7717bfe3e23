//go:build rules && soakhook

package techniques

import (
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"
)

// A fault of `make soak` (suites/soak): a panic in a callback that runs
// after a scenario's verdict. No scenario file can reach a verdict callback
// (the runner's OnResult is the session's own), so the soak builds the
// suite with this hook and names the spec to panic after in
// SOAK_PANIC_AFTER. Never built otherwise.
var _ = AfterEach(func() {
	if id := os.Getenv("SOAK_PANIC_AFTER"); id != "" && strings.Contains(CurrentSpecReport().LeafNodeText, id) {
		panic("soak: injected panic after the verdict of " + id)
	}
})
