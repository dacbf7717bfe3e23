package soak

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/falco/falcotest"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// markerCmd is the runner's barrier marker (harness/runner: markerCmd).
const markerCmd = "/bin/true"

// relay watches the engine's events of the containers the harness labels
// and answers each barrier marker exec'd in a victim of this soak's runs by
// asking the run's stand-in Falco to raise the barrier alert a real Falco
// would have raised. It also records every container the run created, for
// the leak check.
//
// The token is rebuilt the runner's way (harness/runner: attempt.barrier):
// run id, "-", the attempt's number, then the barrier's number in the
// attempt. With WORKERS=1 and REPEAT=1 the attempt's number is the
// scenario's position in the selected order.
type relay struct {
	image string         // this soak's stand-in image: its containers are this soak's
	order map[string]int // scenario id → attempt number

	mu       sync.Mutex
	runs     map[string]bool   // run ids of this soak's Falco containers
	falco    map[string]string // run id → the run's Falco container id, once started
	started  int               // Falco containers started for a run (by testcontainers), not one-shots
	markers  map[string]int    // victim container id → markers seen
	stepping []string          // victims in which a step (any other exec) started, in order
	created  []string          // every container of those runs
	failures []string          // barrier requests that failed (a paused Falco's do)
	cancel   context.CancelFunc
	done     chan struct{}
}

type dockerEvent struct {
	Action string `json:"Action"`
	Actor  struct {
		ID         string            `json:"ID"`
		Attributes map[string]string `json:"Attributes"`
	} `json:"Actor"`
}

// startRelay follows `docker events` from now on (the real engine, never a
// slowed one).
func startRelay(image string, order map[string]int) (*relay, error) {
	ctx, cancel := context.WithCancel(context.Background())
	r := &relay{image: image, order: order, runs: map[string]bool{}, falco: map[string]string{},
		markers: map[string]int{}, cancel: cancel, done: make(chan struct{})}
	cmd := exec.CommandContext(ctx, "docker", "events", "--format", "{{json .}}", "--since", strconv.FormatInt(time.Now().Unix()-1, 10),
		"--filter", "type=container", "--filter", "label="+victim.LabelProject+"=1")
	cmd.Env = engineEnv()
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("docker events: %w", err)
	}
	var answers sync.WaitGroup
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var ev dockerEvent
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				r.handle(ctx, ev, &answers)
			}
		}
		_ = cmd.Wait()
		answers.Wait()
	}()
	return r, nil
}

func (r *relay) handle(ctx context.Context, ev dockerEvent, answers *sync.WaitGroup) {
	attrs := ev.Actor.Attributes
	run := attrs[falco.LabelRun]
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case ev.Action == "create" && attrs[falco.LabelRole] == falco.RoleFalco && attrs["image"] == r.image:
		r.runs[run] = true
		r.created = append(r.created, ev.Actor.ID)
	case ev.Action == "start" && r.runs[run] && attrs[falco.LabelRole] == falco.RoleFalco && attrs["org.testcontainers"] == "true":
		// The run's Falco, not a one-shot (--version, -V) nor an attempt
		// whose privileges the engine refused.
		r.falco[run] = ev.Actor.ID
		r.started++
	case !r.runs[run]:
		// Another process's run.
	case ev.Action == "create":
		r.created = append(r.created, ev.Actor.ID)
	case strings.HasPrefix(ev.Action, "exec_start:") && attrs[falco.LabelRole] == victim.RoleVictim &&
		strings.TrimSpace(strings.TrimPrefix(ev.Action, "exec_start:")) != markerCmd:
		if !slices.Contains(r.stepping, ev.Actor.ID) {
			r.stepping = append(r.stepping, ev.Actor.ID)
		}
	case strings.TrimSpace(strings.TrimPrefix(ev.Action, "exec_start:")) == markerCmd && attrs[falco.LabelRole] == victim.RoleVictim:
		r.markers[ev.Actor.ID]++
		n, ok := r.order[attrs[victim.LabelScenario]]
		if !ok {
			r.failures = append(r.failures, fmt.Sprintf("marker in a victim of unknown scenario %q", attrs[victim.LabelScenario]))
			return
		}
		tok := alert.Token{Run: fmt.Sprintf("%s-%d", run, n), Phase: alert.PhaseBarrier, Step: r.markers[ev.Actor.ID]}.String()
		falcoID := r.falco[run]
		answers.Add(1)
		go func() {
			defer answers.Done()
			actx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(actx, "docker", "exec", falcoID, falcotest.Binary, "standin-ctl", "barrier", tok)
			cmd.Env = engineEnv()
			if out, err := cmd.CombinedOutput(); err != nil {
				r.mu.Lock()
				r.failures = append(r.failures, fmt.Sprintf("barrier %s: %v: %s", tok, err, strings.TrimSpace(string(out))))
				r.mu.Unlock()
			}
		}()
	}
}

// stop ends the relay once every barrier request has returned.
func (r *relay) stop() {
	r.cancel()
	<-r.done
}

// falcoContainer is the id of the running Falco of this soak's run, ""
// while there is none.
func (r *relay) falcoContainer() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range r.falco {
		return id
	}
	return ""
}

// stepVictim is the id of the n-th victim (0-based) in which a step
// started, "" while there is none.
func (r *relay) stepVictim(n int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n < len(r.stepping) {
		return r.stepping[n]
	}
	return ""
}

// falcoStarted counts the Falco containers started for a run.
func (r *relay) falcoStarted() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.started
}

// runIDs and containers are what the run created, for the leak check.
func (r *relay) runIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for id := range r.runs {
		ids = append(ids, id)
	}
	return ids
}

func (r *relay) containers() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.created...)
}
