package yamlsyntax

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var lineMessage = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// parserProblems are the problems yaml.v3's parser reports (parserc.go); every other problem
// comes from its scanner, whose line is already 1-based. inCollection marks those reported at
// the start of the enclosing collection ("while parsing a block mapping" and the like).
var parserProblems = map[string]struct{ inCollection bool }{
	"did not find expected <stream-start>":   {},
	"did not find expected <document start>": {},
	"found duplicate %YAML directive":        {},
	"found incompatible YAML document":       {},
	"found duplicate %TAG directive":         {},
	"found undefined tag handle":             {inCollection: true},
	"did not find expected node content":     {inCollection: true},
	"did not find expected '-' indicator":    {inCollection: true},
	"did not find expected key":              {inCollection: true},
	"did not find expected ',' or ']'":       {inCollection: true},
	"did not find expected ',' or '}'":       {inCollection: true},
}

// maxRefineLines bounds the search for the failing line (one decode per line): past it the
// start of the enclosing collection is reported.
const maxRefineLines = 5000

// Locate returns the 1-based line of a yaml.v3 syntax error in data (0 when yaml.v3 names
// none) and the problem without its "yaml: line N: " prefix. err must come from decoding
// data from its start.
func Locate(data []byte, err error) (line int, problem string) {
	m := lineMessage.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, strings.TrimPrefix(err.Error(), "yaml: ")
	}
	line, _ = strconv.Atoi(m[1])
	problem = m[2]
	p, ok := parserProblems[problem]
	if !ok {
		return line, problem
	}
	line++
	ends := lineEnds(data)
	if line > len(ends) && len(ends) > 0 {
		// The problem is the end of the input (an unclosed collection): name the last line
		// that holds anything rather than one past the end.
		return lastFilledLine(data, ends), problem
	}
	if p.inCollection {
		if at := firstFailingLine(data, ends, err.Error(), line); at > 0 {
			line = at
		}
	}
	return line, problem
}

// lastFilledLine is the number of the last line of data that is not blank.
func lastFilledLine(data []byte, ends []int) int {
	for n := len(ends); n > 1; n-- {
		if len(bytes.TrimSpace(data[ends[n-2]:ends[n-1]])) > 0 {
			return n
		}
	}
	return 1
}

// firstFailingLine finds the first line, from line from on, at which decoding the text up to
// and including it fails exactly as the whole text does: the problem's own line. It returns 0
// when there is none (or the text is too long to search).
func firstFailingLine(data []byte, ends []int, want string, from int) int {
	if len(ends) > maxRefineLines {
		return 0
	}
	for n := from; n <= len(ends); n++ {
		if err := decodeAll(data[:ends[n-1]]); err != nil && err.Error() == want {
			return n
		}
	}
	return 0
}

// lineEnds are the offsets just past each line of data.
func lineEnds(data []byte) []int {
	var ends []int
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		ends = append(ends, len(data))
	}
	return ends
}

// decodeAll decodes every document of data, returning the first error.
func decodeAll(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
