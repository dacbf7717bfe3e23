//go:build soak

package soak

import (
	"os"
	"strconv"
	"testing"
)

// TestSoak is `make soak`: SOAK_RUNS runs (default 100), the faults mixed
// in an order shuffled by SOAK_SEED (printed when not given).
func TestSoak(t *testing.T) {
	runs := 100
	if s := os.Getenv("SOAK_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("SOAK_RUNS=%q: want a positive number of runs, e.g. SOAK_RUNS=100", s)
		}
		runs = n
	}
	soak(t, runs, seedFromEnv(t))
}
