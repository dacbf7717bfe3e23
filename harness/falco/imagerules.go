package falco

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

const (
	// maxImageRulesSize bounds the image's rules file: the official one is
	// a few hundred kilobytes.
	maxImageRulesSize = 16 << 20
	// maxLinks bounds the symbolic links followed to the rules file, as
	// the kernel bounds a path's (40): a loop must end.
	maxLinks = 40
)

// ReadImageRules returns the image's own rules file (ImageRulesFile, what
// WithImageRules loads before the candidates) without running Falco: it
// creates a container of image, never starts it, and copies the file out.
// An absent image is pulled, as Run does; when that fails the error wraps
// ErrImageUnavailable and names FALCO_IMAGE.
func ReadImageRules(ctx context.Context, image string) ([]byte, error) {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the rules of falco image %q: connect to docker: %w", image, err)
	}
	defer cli.Close()
	if err := checkImage(ctx, cli, image); err != nil {
		return nil, fmt.Errorf("read the rules of falco image: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, oneShotTimeout)
	defer cancel()
	var data []byte
	cfg := &container.Config{Image: image, Entrypoint: []string{falcoBinary}, Labels: falcoLabels("image-rules-" + newID())}
	err = withContainer(ctx, cli, cfg, func(id string) error {
		var err error
		data, err = copyFileOut(ctx, cli, id, ImageRulesFile)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read %s from falco image %q: %w", ImageRulesFile, image, err)
	}
	return data, nil
}

// copyFileOut reads the regular file at p in a container, following
// symbolic links: the engine archives a link itself, not its target.
func copyFileOut(ctx context.Context, cli *testcontainers.DockerClient, id, p string) ([]byte, error) {
	for range maxLinks {
		cp, err := cli.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: p})
		if cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("the image has no %s: set %s to an official Falco image, or load the candidate rules without the image's", p, EnvImage)
		}
		if err != nil {
			return nil, fmt.Errorf("copy %s out of the container: %w", p, err)
		}
		h, data, err := firstEntry(cp.Content)
		_ = cp.Content.Close()
		if err != nil {
			return nil, fmt.Errorf("copy %s out of the container: %w", p, err)
		}
		switch h.Typeflag {
		case tar.TypeReg:
			return data, nil
		case tar.TypeSymlink:
			if path.IsAbs(h.Linkname) {
				p = path.Clean(h.Linkname)
			} else {
				p = path.Join(path.Dir(p), h.Linkname)
			}
		default:
			return nil, fmt.Errorf("%s is not a regular file (tar type %q)", p, h.Typeflag)
		}
	}
	return nil, fmt.Errorf("%s: more than %d symbolic links", p, maxLinks)
}

// firstEntry reads the header and content of an archive's first entry.
func firstEntry(r io.Reader) (*tar.Header, []byte, error) {
	tr := tar.NewReader(r)
	h, err := tr.Next()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("the engine sent an empty archive")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read archive: %w", err)
	}
	if h.Typeflag != tar.TypeReg {
		return h, nil, nil
	}
	if h.Size > maxImageRulesSize {
		return nil, nil, fmt.Errorf("%d bytes, more than the %d a rules file may have here", h.Size, maxImageRulesSize)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		return nil, nil, fmt.Errorf("read archive: %w", err)
	}
	return h, data, nil
}
