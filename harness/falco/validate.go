package falco

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/testcontainers/testcontainers-go"
)

// validateDir is where Validate puts the files in its container.
const validateDir = "/attack-replay/validate"

// Validate checks rules files with `falco -V … -o json_output=true` in a
// throw-away container of image: no driver, no capabilities (fixtures/falco/FACTS.md
// "Validating rules"). The files load cumulatively, in the order given, as
// Falco loads them at start; directories give their .yaml and .yml files in
// name order. It returns each file's verdict, with positions 1-based and
// file names as given; the error is a *RulesError when a file is invalid
// (files after it are StatusNotChecked: Falco repeats the earlier errors for
// them instead of checking them).
func Validate(ctx context.Context, image string, files ...string) ([]LoadResult, error) {
	return validate(ctx, image, false, files)
}

// ValidateAfterImageRules is Validate with the image's own
// /etc/falco/falco_rules.yaml loaded first, for candidate rules that use
// its macros and lists. Its verdict comes first in the results.
func ValidateAfterImageRules(ctx context.Context, image string, files ...string) ([]LoadResult, error) {
	return validate(ctx, image, true, files)
}

func validate(ctx context.Context, image string, imageRules bool, paths []string) ([]LoadResult, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("validate rules: no file given")
	}
	files, err := expandRules(paths)
	if err != nil {
		return nil, fmt.Errorf("validate rules: %w", err)
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("validate rules: connect to docker: %w", err)
	}
	defer cli.Close()
	if err := checkImage(ctx, cli, image); err != nil {
		return nil, fmt.Errorf("validate rules: %w", err)
	}

	args := []string{"-o", "json_output=true"}
	if imageRules {
		args = append(args, "-V", ImageRulesFile)
	}
	content := map[string][]byte{}
	hostOf := map[string]string{}
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("validate rules: %w", err)
		}
		p := path.Join(validateDir, fmt.Sprintf("%02d-%s", i+1, filepath.Base(f)))
		content[p] = data
		hostOf[p] = f
		args = append(args, "-V", p)
	}
	res, err := oneShot{image: image, args: args, files: content, labels: falcoLabels("validate-" + newID())}.run(ctx, cli)
	if err != nil {
		return nil, fmt.Errorf("validate rules with %q: %w", image, err)
	}
	results, perr := ParseLoadJSON([]byte(res.stdout))
	if perr != nil {
		// Falco stopped before validating (a missing file, a bad config):
		// its reason is on stderr.
		out := strings.TrimSpace(res.stderr + "\n" + res.stdout)
		return nil, fmt.Errorf("validate rules with %q: falco exited with code %d without a verdict: %s", image, res.exitCode, lastLines(out, 5))
	}
	mapFiles(results, func(p string) string {
		if h, ok := hostOf[p]; ok {
			return h
		}
		return p
	})
	dropEchoes(results)
	if e := rulesError(results); e != nil {
		return results, e
	}
	if res.exitCode != 0 {
		return results, fmt.Errorf("validate rules with %q: falco exited with code %d although every file is valid: %s", image, res.exitCode, lastLines(res.stderr, 5))
	}
	return results, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
