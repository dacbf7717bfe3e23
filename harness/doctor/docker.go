package doctor

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// Docker is the Docker engine testcontainers resolves (DOCKER_HOST,
// ~/.testcontainers.properties, the default socket). Its probe containers carry the harness's
// labels and the run label RunID, so `docker ps -a --filter label=attack-replay.run=<RunID>`
// finds any a killed doctor left.
type Docker struct {
	RunID string
}

// Info asks the engine about itself, after a ping: testcontainers falls back to an unchecked
// client when its own probe fails.
func (d Docker) Info(ctx context.Context) (EngineInfo, error) {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return EngineInfo{}, fmt.Errorf("connect to docker: %w", err)
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return EngineInfo{}, fmt.Errorf("ping docker at %s: %w", cli.DaemonHost(), err)
	}
	res, err := cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return EngineInfo{}, fmt.Errorf("ask docker at %s: %w", cli.DaemonHost(), err)
	}
	v, err := cli.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return EngineInfo{}, fmt.Errorf("ask docker at %s its version: %w", cli.DaemonHost(), err)
	}
	i := res.Info
	return EngineInfo{
		Address: cli.DaemonHost(), ServerVersion: v.Version, APIVersion: v.APIVersion, OS: i.OperatingSystem,
		KernelVersion: i.KernelVersion, CgroupVersion: i.CgroupVersion, RootDir: i.DockerRootDir,
	}, nil
}

// ImagePresent tells whether the engine holds image; it never pulls.
func (Docker) ImagePresent(ctx context.Context, image string) (bool, error) {
	return victim.ImagePresent(ctx, image)
}

// Grant learns what the engine grants containers of image (victim.ProbeGrant).
func (d Docker) Grant(ctx context.Context, image string) (victim.Grant, error) {
	return victim.ProbeGrant(ctx, image, map[string]string{victim.LabelRun: d.RunID})
}

// FalcoImage reads a Falco image's version (falco.InspectImage).
func (d Docker) FalcoImage(ctx context.Context, image string) (falco.ImageInfo, error) {
	return falco.InspectImage(ctx, image, map[string]string{falco.LabelApp: "1", falco.LabelRole: "doctor", falco.LabelRun: d.RunID})
}
