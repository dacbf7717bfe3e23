package report

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// matrixRows lists the scenario rows left in the DOM, in order, with
// "!" after those marked as differing.
func matrixRows(doc *html.Node) []string {
	var out []string
	for _, tb := range findAll(byID(doc, "matrix"), func(n *html.Node) bool { return n.Data == "tbody" }) {
		id := attr(tb, "data-scenario")
		if attr(tb, "class") == "differs" && byAttr(tb, "class", "flag") != nil {
			id += "!"
		}
		out = append(out, id)
	}
	return out
}

func TestMatrixHTMLInHeadlessChromium(t *testing.T) {
	path := writeHTML(t, BuildMatrix(matrixInputs(t)))
	fetchesNothing(t, path)
	all := []string{"root-systemctl-rescue!", "root-rm-rf", "systemctl-disable-recovery-mode", "benign-rm-build-cache",
		"mkfs-nodiscard", "find-private-keys!", "grep-passwords", "read-shadow!"}
	for _, c := range []struct {
		name, fragment string
		rows           []string
		status         string
	}{
		{"everything, the differing rows highlighted", "", all, "Showing 8 of 8 scenarios; 3 differ."},
		{"only differing", "#differing=1", []string{"root-systemctl-rescue!", "find-private-keys!", "read-shadow!"},
			"Showing 3 of 8 scenarios; 3 differ."},
		{"only differing, from the query string, and text", "?differing=1&q=t1555", []string{"read-shadow!"},
			"Showing 1 of 8 scenarios; 3 differ."},
		{"text alone", "#q=recovery", []string{"root-systemctl-rescue!", "root-rm-rf", "systemctl-disable-recovery-mode",
			"benign-rm-build-cache", "mkfs-nodiscard"}, "Showing 5 of 8 scenarios; 3 differ."},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			doc := render(t, path, c.fragment)
			if form := byID(doc, "filters"); form == nil || hasAttr(form, "hidden") {
				t.Fatal("the filter form is still hidden: the page's script did not run")
			}
			if got := matrixRows(doc); !slices.Equal(got, c.rows) {
				t.Errorf("rows\n got %q\nwant %q", got, c.rows)
			}
			if got := text(byID(doc, "rows-status")); got != c.status {
				t.Errorf("status %q, want %q", got, c.status)
			}
		})
	}

	t.Run("entries and cells", func(t *testing.T) {
		t.Parallel()
		doc := render(t, path, "")
		var heads []string
		for _, th := range findAll(byID(doc, "matrix"), func(n *html.Node) bool { return n.Data == "th" && hasAttr(n, "data-entry") }) {
			heads = append(heads, text(th)+" ["+attr(th, "title")+"]")
		}
		wantHeads := []string{"0.40.0 http [falcosecurity/falco:0.40.0@http]", "0.44.1 http [registry.example/falco:latest@http]",
			"falco:0.44.1@grpc [falcosecurity/falco:0.44.1@grpc]", "d [d]"}
		if !slices.Equal(heads, wantHeads) {
			t.Errorf("column heads %q, want %q", heads, wantHeads)
		}
		notRun := findAll(byID(doc, "entries"), func(n *html.Node) bool { return n.Data == "tr" && attr(n, "class") == "not-run" })
		if len(notRun) != 2 || !strings.Contains(text(notRun[0]), "did not run: "+noGRPC) {
			t.Errorf("%d entries marked not run; first: %q", len(notRun), text(notRun[0]))
		}
		row := byAttr(doc, "data-scenario", "root-systemctl-rescue")
		var cells []string
		for _, td := range findAll(row, func(n *html.Node) bool { return n.Data == "td" && hasAttr(n, "data-entry") }) {
			cells = append(cells, attr(td, "data-status")+": "+text(td))
		}
		want := []string{"pass: pass", `fail: fail expected "Disable recovery features": no alert matched`, "not-run: not-run", "not-run: not-run"}
		if !slices.Equal(cells, want) {
			t.Errorf("cells of root-systemctl-rescue %q, want %q", cells, want)
		}
	})
}

func TestMatrixHTMLEscapesWhatReportsSay(t *testing.T) {
	evil := `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`
	in := matrixInputs(t)
	in[0].Label = "label " + evil
	in[3].Missing = "missing " + evil
	in[1].Report.Techniques[0].Scenarios[4].Reason = "reason " + evil
	m := BuildMatrix(in)
	if !strings.Contains(m.Rows[4].Cells[1].Note, evil) {
		t.Fatalf("the injected reason is not in the cell: %+v", m.Rows[4].Cells[1])
	}
	doc := render(t, writeHTML(t, m), "")
	if title := text(findAll(doc, func(n *html.Node) bool { return n.Data == "title" })[0]); title != "attack-replay Falco version matrix" {
		t.Errorf("title %q: injected markup ran", title)
	}
	if n := len(findAll(doc, func(n *html.Node) bool { return n.Data == "script" })); n != 1 {
		t.Errorf("%d script elements, want only the page's own", n)
	}
	if n := len(findAll(doc, func(n *html.Node) bool { return n.Data == "img" })); n != 0 {
		t.Errorf("%d img elements: report text became markup", n)
	}
}
