package victim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Image defaults: the tags scripts/victim-image.sh builds, overridable through ImageEnv and
// ToolsImageEnv. The tools image adds strace, gdb, sshd, ncat, nmap, ... (fixtures/victim).
const (
	DefaultImage      = "attack-replay/victim:bookworm"
	ImageEnv          = "VICTIM_IMAGE"
	DefaultToolsImage = "attack-replay/victim:tools"
	ToolsImageEnv     = "VICTIM_TOOLS_IMAGE"
)

// Labels on every container the harness starts. Sweep and the leak checks select on them.
const (
	LabelProject  = "attack-replay"          // always "1"
	LabelRole     = "attack-replay.role"     // RoleVictim here; Falco's module uses "falco"
	LabelRun      = "attack-replay.run"      // run id, shared by every container of a run
	LabelScenario = "attack-replay.scenario" // scenario id
	// LabelInstance is unique per Run call, so a Run that fails half-way can remove exactly
	// what it created even when the engine never told it the container id.
	LabelInstance = "attack-replay.instance"

	RoleVictim = "victim"
	// roleProbe marks the short-lived containers that find the engine's capability set.
	roleProbe = "probe"
)

// ErrEngineUnreachable means no Docker engine answered.
var ErrEngineUnreachable = errors.New("docker engine unreachable")

// ErrImageMissing means the victim image is not on the engine.
var ErrImageMissing = errors.New("victim image missing")

// ImageFromEnv returns the victim image to use: $VICTIM_IMAGE, or DefaultImage.
func ImageFromEnv() string {
	if img := os.Getenv(ImageEnv); img != "" {
		return img
	}
	return DefaultImage
}

// ToolsImageFromEnv returns the tools image to use: $VICTIM_TOOLS_IMAGE, or DefaultToolsImage.
func ToolsImageFromEnv() string {
	if img := os.Getenv(ToolsImageEnv); img != "" {
		return img
	}
	return DefaultToolsImage
}

// engineClient is the Docker API client every victim of the process shares. It is made on
// first use and kept only once the engine has answered, so a later call can succeed after the
// engine has been started.
var engineClient struct {
	mu  sync.Mutex
	cli *testcontainers.DockerClient
}

// dockerClient returns the shared client, resolved the way testcontainers resolves the engine
// (DOCKER_HOST, ~/.testcontainers.properties, the default socket).
func dockerClient(ctx context.Context) (*testcontainers.DockerClient, error) {
	engineClient.mu.Lock()
	defer engineClient.mu.Unlock()
	if engineClient.cli != nil {
		return engineClient.cli, nil
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err == nil {
		// testcontainers falls back to an unchecked client when its own probe fails: ask the
		// engine directly so an absent engine is reported here, not at the first container.
		_, err = cli.Ping(ctx, client.PingOptions{})
		if err != nil {
			_ = cli.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w (start the Docker engine, or set DOCKER_HOST to its socket, e.g. DOCKER_HOST=unix:///var/run/docker.sock)", ErrEngineUnreachable, err)
	}
	engineClient.cli = cli
	return cli, nil
}

// ImagePresent tells whether the engine holds image. It never pulls.
func ImagePresent(ctx context.Context, image string) (bool, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return false, fmt.Errorf("inspect image %q: %w", image, err)
	}
	return imagePresent(ctx, cli, image)
}

func imagePresent(ctx context.Context, cli client.ImageAPIClient, image string) (bool, error) {
	_, err := cli.ImageInspect(ctx, image)
	switch {
	case err == nil:
		return true, nil
	case cerrdefs.IsNotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("inspect image %q: %w", image, err)
	}
}

// missingImageError explains how to get the image; the run cannot build it by itself because
// the offline build needs root and takes minutes.
func missingImageError(image string) error {
	return fmt.Errorf("%w: %q is not on the engine: build it with `make victim-images` (scripts/victim-image.sh builds %s and %s), or set %s or %s to an image that exists",
		ErrImageMissing, image, DefaultImage, DefaultToolsImage, ImageEnv, ToolsImageEnv)
}

// Sweep force-removes every attack-replay container (running or not, with its anonymous
// volumes) that carries all of labels, and returns the ids it removed. It is the backstop for
// Ctrl-C and crashed runs, and the tests' proof that nothing leaked. LabelProject=1 is always
// part of the selection, so Sweep never touches a container the harness did not start.
func Sweep(ctx context.Context, labels map[string]string) ([]string, error) {
	if len(labels) == 0 {
		return nil, errors.New("sweep containers: no labels given (name at least the run, e.g. attack-replay.run=<id>)")
	}
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("sweep containers: %w", err)
	}
	return sweep(ctx, cli, labels)
}

func sweep(ctx context.Context, cli client.ContainerAPIClient, labels map[string]string) ([]string, error) {
	ids, err := listLabelled(ctx, cli, labels)
	if err != nil {
		return nil, fmt.Errorf("sweep containers: %w", err)
	}
	var removed []string
	var errs []error
	for _, id := range ids {
		_, err := cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		switch {
		case err == nil:
			removed = append(removed, id)
		case cerrdefs.IsNotFound(err):
			// Removed meanwhile by its owner: the goal is met.
		default:
			errs = append(errs, fmt.Errorf("remove container %s: %w", id[:min(12, len(id))], err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("sweep containers: %w", err)
	}
	return removed, nil
}

// Labelled returns the ids of every attack-replay container, running or not, that carries all
// of labels.
func Labelled(ctx context.Context, labels map[string]string) ([]string, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	ids, err := listLabelled(ctx, cli, labels)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	return ids, nil
}

func listLabelled(ctx context.Context, cli client.ContainerAPIClient, labels map[string]string) ([]string, error) {
	all := maps.Clone(labels)
	if all == nil {
		all = map[string]string{}
	}
	all[LabelProject] = "1"
	filters := make(client.Filters)
	for _, k := range slices.Sorted(maps.Keys(all)) {
		filters.Add("label", k+"="+all[k])
	}
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filters})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(res.Items))
	for _, c := range res.Items {
		ids = append(ids, c.ID)
	}
	return ids, nil
}
