package falco

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// ErrImageUnavailable is returned (wrapped) when the Falco image is neither
// in the Docker engine nor pullable.
var ErrImageUnavailable = errors.New("falco image unavailable")

// EnvImage names the environment variable the suites read the Falco image
// from; messages about a missing image tell the user to set it.
const EnvImage = "FALCO_IMAGE"

// pullTimeout bounds the pull of an absent image. A registry that cannot be
// reached fails at once; a real pull of a Falco image takes tens of
// seconds on a CI runner.
const pullTimeout = 2 * time.Minute

// CheckImage returns nil when image is in the Docker engine, or once it has
// been pulled. Otherwise it returns at once with an error wrapping
// ErrImageUnavailable that tells the user to set FALCO_IMAGE.
func CheckImage(ctx context.Context, image string) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("check falco image %q: connect to docker: %w", image, err)
	}
	defer cli.Close()
	return checkImage(ctx, cli, image)
}

func checkImage(ctx context.Context, cli *testcontainers.DockerClient, image string) error {
	if strings.TrimSpace(image) == "" {
		return fmt.Errorf("%w: no image given: set %s to a Falco image (e.g. falcosecurity/falco:0.43.1)", ErrImageUnavailable, EnvImage)
	}
	if _, err := cli.ImageInspect(ctx, image); err == nil {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, pullTimeout)
	defer cancel()
	err := pull(pctx, cli, image)
	if err == nil {
		if _, err = cli.ImageInspect(ctx, image); err == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: %q is not in the Docker engine and cannot be pulled (%s); set %s to a Falco image present here (see `docker images`) or load one (`docker load -i falco.tar`)",
		ErrImageUnavailable, image, lastLine(err.Error()), EnvImage)
}

func pull(ctx context.Context, cli *testcontainers.DockerClient, image string) error {
	resp, err := cli.ImagePull(ctx, image, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	defer resp.Close()
	return resp.Wait(ctx)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// ImageInfo is what InspectImage learns about a Falco image.
type ImageInfo struct {
	ID      string
	Version Version
	// VersionFrom says where the version was read: an image label, the image's FALCO_VERSION
	// environment variable, or "falco --version".
	VersionFrom string
}

// versionLabel is the OCI annotation for an image's version; official Falco images set
// FALCO_VERSION in their environment (falcosecurity/falco docker/falco/Dockerfile), which
// may also say "latest".
const versionLabel = "org.opencontainers.image.version"

// InspectImage reads the version of image, which must be in the engine: it never pulls (an
// absent image is ErrImageUnavailable). The image's labels or environment give the version
// where they name one; otherwise `falco --version` runs in a throw-away container labelled
// with labels, bounded by ctx and oneShotTimeout, and removed.
func InspectImage(ctx context.Context, image string, labels map[string]string) (ImageInfo, error) {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return ImageInfo{}, fmt.Errorf("inspect falco image %q: connect to docker: %w", image, err)
	}
	defer cli.Close()
	res, err := cli.ImageInspect(ctx, image)
	if cerrdefs.IsNotFound(err) {
		return ImageInfo{}, fmt.Errorf("inspect falco image %q: %w: not in the Docker engine", image, ErrImageUnavailable)
	}
	if err != nil {
		return ImageInfo{}, fmt.Errorf("inspect falco image %q: %w", image, err)
	}
	info := ImageInfo{ID: res.ID}
	if res.Config != nil {
		info.Version, info.VersionFrom = versionFromImageConfig(res.Config.Labels, res.Config.Env)
	}
	if !info.Version.IsZero() {
		return info, nil
	}
	facts, err := probeImage(ctx, cli, image, labels)
	if err != nil {
		return info, fmt.Errorf("inspect falco image: %w", err)
	}
	info.Version, info.VersionFrom = facts.Version, "falco --version"
	return info, nil
}

// versionFromImageConfig finds a Falco version in an image's labels or FALCO_VERSION
// environment variable; "latest" and other non-versions do not count.
func versionFromImageConfig(labels map[string]string, env []string) (Version, string) {
	if v, err := ParseVersion(labels[versionLabel]); err == nil {
		return v, "label " + versionLabel
	}
	for _, kv := range env {
		if value, ok := strings.CutPrefix(kv, "FALCO_VERSION="); ok {
			if v, err := ParseVersion(value); err == nil {
				return v, "env FALCO_VERSION"
			}
		}
	}
	return Version{}, ""
}
