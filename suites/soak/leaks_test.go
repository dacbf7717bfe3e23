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
	for _, id := range rl.containers() {
		if err := exec.Command("docker", "container", "inspect", id).Run(); err == nil {
			left = append(left, "container "+id[:12])
		}
	}
	for _, run := range rl.runIDs() {
		ids, err := dockerLines("ps", "-aq", "--filter", "label="+victim.LabelRun+"="+run)
		if err != nil {
			left = append(left, err.Error())
		}
		for _, id := range ids {
			left = append(left, "container "+id+" of run "+run)
		}
	}
	after, err := takeSnapshot()
	if err != nil {
		return append(left, err.Error())
	}
	for kind, ids := range after {
		for id := range ids {
			if before[kind][id] || kind == "image" && otherStandin(id, standin) {
				continue
			}
			left = append(left, kind+" "+id)
		}
	}
	if slices.ContainsFunc(left, func(s string) bool { return strings.HasPrefix(s, "image ") }) {
		// An untagged image that vanishes within seconds is a step of
		// another process's build: this run builds no image.
		time.Sleep(5 * time.Second)
		left = slices.DeleteFunc(left, func(s string) bool {
			id, ok := strings.CutPrefix(s, "image ")
			return ok && exec.Command("docker", "image", "inspect", id).Run() != nil
		})
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

// otherStandin tells whether image id is a stand-in Falco image built by
// another process (test binaries build their own, each with its own tag).
func otherStandin(id, ours string) bool {
	out, err := exec.Command("docker", "image", "inspect", "--format", "{{join .RepoTags \" \"}}", id).Output()
	if err != nil {
		return true // gone already: removed by whoever built it
	}
	for _, tag := range strings.Fields(string(out)) {
		if strings.HasPrefix(tag, falcotest.Repository+":") && tag != ours {
			return true
		}
	}
	return false
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
