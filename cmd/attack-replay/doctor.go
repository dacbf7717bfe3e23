package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/attack-replay/attack-replay/harness/doctor"
	"github.com/attack-replay/attack-replay/harness/host"
	"github.com/attack-replay/attack-replay/harness/session"
)

// doctorTimeout bounds a whole diagnosis; each probe has a tighter bound of its own.
const doctorTimeout = 3 * time.Minute

func runDoctor(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("doctor", "Tells, before a first run, whether Falco will start on this host and what to do where it will\n"+
		"not: the Docker engine, --privileged and the capabilities missing without it, the kernel, BTF,\n"+
		"the memlock limit, the Falco and victim images (FALCO_IMAGE, VICTIM_IMAGE, as `make test-rules`\n"+
		"reads them), the cgroup hierarchy and free disk. Changes nothing: its probe containers are\n"+
		"labelled and removed, and nothing is pulled. Exits 1 when a check fails (warnings do not).", stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON (schema "+doctor.Schema+") instead of a table")
	timeout := fs.Duration("timeout", doctorTimeout, "bound on the whole diagnosis")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "attack-replay doctor: --timeout %s is not positive\n", *timeout)
		return exitUsage
	}
	cfg, envErr := session.FromEnv(os.Getenv)
	// testcontainers greets every new client on stderr; the report says what matters.
	tclog.SetDefault(tclog.NewNoopLogger())
	// Ctrl-C ends the probes; their containers are removed on a context of their own.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	r := doctor.Run(ctx, doctor.Config{FalcoImage: cfg.FalcoImage, VictimImage: cfg.VictimImage, ToolsImage: cfg.VictimToolsImage, EnvErr: envErr},
		host.Machine{}, doctor.Docker{RunID: "doctor-" + randomHex(4)})
	write := r.Table
	if *asJSON {
		write = r.JSON
	}
	if err := write(stdout); err != nil {
		fmt.Fprintf(stderr, "attack-replay doctor: write report: %v\n", err)
		return exitUsage
	}
	if !r.OK {
		return exitProblems
	}
	return exitOK
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
