package soak

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/attack-replay/attack-replay/harness/falco/falcotest"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// snapshot is the engine's networks, volumes and images before a run.
// Containers need none: the relay saw every container the run created.
type snapshot map[string]map[string]bool

var listings = map[string][]string{
	"network": {"network", "ls", "-q", "--no-trunc"},
	"volume":  {"volume", "ls", "-q"},
	"image":   {"images", "-aq", "--no-trunc"},
}

func takeSnapshot() (snapshot, error) {
	s := snapshot{}
	for kind, args := range listings {
		ids, err := dockerLines(args...)
		if err != nil {
			return nil, err
		}
		s[kind] = map[string]bool{}
		for _, id := range ids {
			s[kind][id] = true
		}
	}
	return s, nil
}

// leaks lists what a run left: a container it created, a network, volume
// or image that was not there before (a stand-in image another process
// builds is not this run's), an entry in its TMPDIR (temp dirs, unix
// sockets).
func leaks(before snapshot, rl *relay, standin, tmp string) []string {
	var left []string
	present := func(id string) bool { return exec.Command("docker", "container", "inspect", id).Run() == nil }
	var atExit []string
	for _, id := range rl.containers() {
		if present(id) {
			atExit = append(atExit, id)
		}
	}
	for _, run := range rl.runIDs() {
		ids, err := dockerLines("ps", "-aq", "--no-trunc", "--filter", "label="+victim.LabelRun+"="+run)
		if err != nil {
			left = append(left, err.Error())
		}
		for _, id := range ids {
			if !slices.Contains(atExit, id) {
				atExit = append(atExit, id)
			}
		}
	}
	// A removal the engine was still doing when the suite exited ends by
	// itself: late, not left. Wait for it, at most 10 s.
	for deadline := time.Now().Add(10 * time.Second); slices.ContainsFunc(atExit, present) && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	for _, id := range atExit {
		if present(id) {
			left = append(left, "container "+describe(id))
		} else {
			left = append(left, lateRemoval+id[:12])
		}
	}
	after, err := takeSnapshot()
	if err != nil {
		return append(left, err.Error())
	}
	for kind, ids := range after {
		for id := range ids {
			if before[kind][id] || kind == "image" && !runImage(id, standin) {
				continue
			}
			left = append(left, kind+" "+id)
		}
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return append(left, err.Error())
	}
	for _, e := range entries {
		left = append(left, "TMPDIR entry "+e.Name())
	}
	return left
}

// lateRemoval prefixes a container that was still there when the suite
// exited and gone 10 s later.
const lateRemoval = "removed late: container "

// runImage tells whether a new image id can be the run's: a run pulls or
// tags nothing, so a leaked image would carry a tag. Untagged ones are the
// layers of other processes' builds, and stand-in images other test
// binaries build carry their own tags.
func runImage(id, ours string) bool {
	out, err := exec.Command("docker", "image", "inspect", "--format", "{{join .RepoTags \" \"}}", id).Output()
	if err != nil {
		return false // gone already: removed by whoever built it
	}
	tags := strings.Fields(string(out))
	return len(tags) > 0 && !slices.ContainsFunc(tags, func(tag string) bool {
		return strings.HasPrefix(tag, falcotest.Repository+":") && tag != ours
	})
}

// describe names a container: id, role, state.
func describe(id string) string {
	out, err := exec.Command("docker", "container", "inspect", "--format",
		"{{index .Config.Labels \""+victim.LabelRole+"\"}} {{.State.Status}} {{.Config.Image}}", id).Output()
	if err != nil {
		return id[:12]
	}
	return id[:12] + " (" + strings.TrimSpace(string(out)) + ")"
}

func dockerLines(args ...string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("docker %s: %w", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out)), nil
}
