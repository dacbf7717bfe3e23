package report

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

// chromium finds a Chromium binary. The HTML report is checked in a real
// browser or not at all: a missing browser fails the test with the fix.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Fatal("chromium not found: report.html is checked in a real headless browser; install Debian's package: apt-get install -y chromium")
	return ""
}

// render opens file#fragment in headless Chromium and returns the DOM after
// the page's script ran.
func render(t *testing.T, file, fragment string) *html.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	url := "file://" + file + fragment
	cmd := exec.CommandContext(ctx, chromium(t), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--user-data-dir="+t.TempDir(), "--dump-dom", url)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, tail(stderr.String(), 2000))
	}
	doc, err := html.Parse(&stdout)
	if err != nil {
		t.Fatalf("parse chromium's DOM: %v", err)
	}
	return doc
}

// writeHTML writes a report's or a matrix's page into a temp dir.
func writeHTML(t *testing.T, page interface{ WriteHTML(io.Writer) error }) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), HTMLFile)
	var buf bytes.Buffer
	if err := page.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fetchesNothing checks that the page at path names nothing to fetch: it
// must open from an artifact download, with no network.
func fetchesNothing(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, fetch := range []string{"<link", "@import", "src=", "href=", "url("} {
		if bytes.Contains(bytes.ToLower(raw), []byte(fetch)) {
			t.Errorf("%s contains %q: it must open with no network", path, fetch)
		}
	}
}

func TestHTMLInHeadlessChromium(t *testing.T) {
	path := writeHTML(t, Build(recordedRun(t)))
	fetchesNothing(t, path)
	all := []string{"root-systemctl-rescue", "root-rm-rf", "systemctl-disable-recovery-mode", "benign-rm-build-cache",
		"mkfs-nodiscard", "find-private-keys", "grep-passwords", "read-shadow"}

	cases := []struct {
		name, fragment string
		scenarios      []string // scenario rows left in the DOM, in order
		techniques     []string
		scenarioStatus string
		sortedHeader   string // data-key of the scenarios column marked sorted
		sortDir        string
	}{
		{name: "everything", fragment: "", scenarios: all, techniques: []string{"T1490", "T1552.001", "T1555"},
			scenarioStatus: "Showing 8 of 8 scenarios."},
		{name: "failing only", fragment: "#verdict=fail",
			scenarios: []string{"root-rm-rf", "systemctl-disable-recovery-mode", "benign-rm-build-cache"}, techniques: []string{"T1490"},
			scenarioStatus: "Showing 3 of 8 scenarios."},
		{name: "passing only, from the query string", fragment: "?verdict=pass",
			scenarios: []string{"root-systemctl-rescue", "find-private-keys", "read-shadow"}, techniques: []string{"T1490", "T1552.001", "T1555"},
			scenarioStatus: "Showing 3 of 8 scenarios."},
		{name: "flaky", fragment: "#verdict=flaky", scenarios: []string{"root-rm-rf"}, techniques: []string{"T1490"},
			scenarioStatus: "Showing 1 of 8 scenarios."},
		{name: "text matches tactic and technique", fragment: "#q=credential%20t1552",
			scenarios: []string{"find-private-keys", "grep-passwords"}, techniques: []string{"T1552.001"},
			scenarioStatus: "Showing 2 of 8 scenarios."},
		{name: "nothing matches", fragment: "#verdict=error&q=credential", scenarios: nil, techniques: nil,
			scenarioStatus: "Showing 0 of 8 scenarios."},
		{name: "sorted by p50, slowest first, unmeasured last", fragment: "#scenarios-sort=p50&scenarios-dir=desc",
			scenarios: []string{"find-private-keys", "read-shadow", "root-rm-rf", "root-systemctl-rescue",
				"systemctl-disable-recovery-mode", "benign-rm-build-cache", "mkfs-nodiscard", "grep-passwords"},
			techniques: []string{"T1490", "T1552.001", "T1555"}, scenarioStatus: "Showing 8 of 8 scenarios.",
			sortedHeader: "p50", sortDir: "descending"},
		{name: "sorted by verdict, most alarming first", fragment: "#scenarios-sort=verdict",
			scenarios: []string{"systemctl-disable-recovery-mode", "benign-rm-build-cache", "root-rm-rf", "mkfs-nodiscard",
				"grep-passwords", "root-systemctl-rescue", "find-private-keys", "read-shadow"},
			techniques: []string{"T1490", "T1552.001", "T1555"}, scenarioStatus: "Showing 8 of 8 scenarios.",
			sortedHeader: "verdict", sortDir: "ascending"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // one browser per core: each launch is mostly start-up
			doc := render(t, path, c.fragment)
			if form := byID(doc, "filters"); form == nil || hasAttr(form, "hidden") {
				t.Fatal("the filter form is still hidden: the page's script did not run")
			}
			if got := rowKeys(byID(doc, "scenarios"), "scenario"); strings.Join(got, " ") != strings.Join(c.scenarios, " ") {
				t.Errorf("scenario rows\n got %v\nwant %v", got, c.scenarios)
			}
			if got := rowKeys(byID(doc, "techniques"), "technique"); strings.Join(got, " ") != strings.Join(c.techniques, " ") {
				t.Errorf("technique rows %v, want %v", got, c.techniques)
			}
			if got := text(byID(doc, "scenarios-status")); got != c.scenarioStatus {
				t.Errorf("status %q, want %q", got, c.scenarioStatus)
			}
			for _, th := range findAll(byID(doc, "scenarios"), func(n *html.Node) bool { return n.Data == "th" && hasAttr(n, "aria-sort") }) {
				want := "none"
				if attr(th, "data-key") == c.sortedHeader {
					want = c.sortDir
				}
				if got := attr(th, "aria-sort"); got != want {
					t.Errorf("column %s aria-sort=%q, want %q", attr(th, "data-key"), got, want)
				}
			}
		})
	}

	t.Run("failure detail", func(t *testing.T) {
		t.Parallel()
		doc := render(t, path, "#q=recovery-mode")
		body := byAttr(doc, "data-scenario", "systemctl-disable-recovery-mode")
		if body == nil {
			t.Fatal("no row for systemctl-disable-recovery-mode")
		}
		details := findAll(body, func(n *html.Node) bool { return n.Data == "details" })
		if len(details) != 1 {
			t.Fatalf("%d expandable details, want 1", len(details))
		}
		got := text(details[0])
		for _, want := range []string{
			"Why systemctl-disable-recovery-mode did not pass",
			"scenarios/impact/T1490.yaml:30",
			`unmet rule "Disable recovery features", priority Critical, user.name equals "root" — no alert matched`,
			"Disable recovery features Critical, step 1: 20:44:20.235674052: Critical Disabling recovery features",
			`user.name: want equals "root", got <NA>`,
			"systemctl disable recovery-mode.service",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("detail lacks %q:\n%s", want, got)
			}
		}
		passing := byAttr(render(t, path, ""), "data-scenario", "read-shadow")
		if n := len(findAll(passing, func(n *html.Node) bool { return n.Data == "details" })); n != 0 {
			t.Errorf("a passing scenario has %d detail blocks", n)
		}
	})
}

func TestHTMLEscapesEverythingAndNeedsNoNetwork(t *testing.T) {
	evil := `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`
	a := Attempt{Attempt: 1, Outcome: verdict.Fail, Reason: "reason " + evil, Alerts: []Alert{{
		Rule: "Rule " + evil, Priority: rules.Warning, Phase: alert.PhaseSteps, Step: 1, Output: "output " + evil,
		Fields: map[string]string{"proc.cmdline": evil},
	}}, NearMisses: []NearMiss{{Alert: 0, Field: "proc.name", Want: `equals "x"`, Got: evil}},
		Steps: []Step{{Phase: alert.PhaseSteps, Index: 1, Run: "echo " + evil, ExitCode: 1, Stderr: evil}}}
	rep := &Report{Schema: Schema, Summary: Summary{Trustworthy: false, Drops: 1}, Meta: Meta{VictimImage: evil, LabelFilter: evil},
		Techniques: []Technique{{ID: "T1490", Name: "Name " + evil, Tactic: "impact", Scenarios: []Scenario{{
			ID: "evil", Description: "description " + evil, Outcome: verdict.Fail, Reason: "reason " + evil, Attempts: []Attempt{a},
		}}}}}
	path := writeHTML(t, rep)
	doc := render(t, path, "")
	if title := text(findAll(doc, func(n *html.Node) bool { return n.Data == "title" })[0]); title != "attack-replay report" {
		t.Errorf("title %q: injected markup ran", title)
	}
	if n := len(findAll(doc, func(n *html.Node) bool { return n.Data == "script" })); n != 1 {
		t.Errorf("%d script elements, want only the report's own", n)
	}
	if n := len(findAll(doc, func(n *html.Node) bool { return n.Data == "img" })); n != 0 {
		t.Errorf("%d img elements: alert text became markup", n)
	}
	if got := text(byID(doc, "scenarios")); strings.Count(got, `<script>document.title='pwned'</script>`) < 5 {
		t.Errorf("the injected text is not shown as text:\n%s", got)
	}
}

func byID(n *html.Node, id string) *html.Node { return byAttr(n, "id", id) }

func byAttr(n *html.Node, key, value string) *html.Node {
	found := findAll(n, func(x *html.Node) bool { return attr(x, key) == value && hasAttr(x, key) })
	if len(found) == 0 {
		return nil
	}
	return found[0]
}

func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	if n == nil {
		return nil
	}
	var walk func(*html.Node)
	walk = func(x *html.Node) {
		if x.Type == html.ElementNode && match(x) {
			out = append(out, x)
		}
		for c := x.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

// rowKeys lists, in DOM order, the text of the cell named key of each row
// group directly inside table.
func rowKeys(table *html.Node, key string) []string {
	var out []string
	if table == nil {
		return nil
	}
	for c := table.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == "tbody" {
			if cell := byAttr(c, "data-key", key); cell != nil {
				out = append(out, text(cell))
			}
		}
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// text is what a person reads: the node's text with whitespace collapsed.
func text(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(x *html.Node) {
		if x.Type == html.TextNode {
			b.WriteString(x.Data)
		}
		for c := x.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
