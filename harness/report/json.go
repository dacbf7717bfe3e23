package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // alert outputs are read by people and jq, not embedded in HTML
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write report json: %w", err)
	}
	return nil
}

// Read decodes a report.json and checks its schema. name is used in errors.
func Read(rd io.Reader, name string) (*Report, error) {
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("read report %q: %w", name, err)
	}
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("read report %q: %s (is it a report.json written by attack-replay?)", name, jsonError(data, err))
	}
	if head.Schema != Schema {
		return nil, fmt.Errorf("read report %q: schema %q, want %q (regenerate it with this attack-replay: make test-rules)", name, head.Schema, Schema)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("read report %q: %s", name, jsonError(data, err))
	}
	return &r, nil
}

// Load reads a report.json file.
func Load(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load report: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// jsonError places a decoding error at its line and column.
func jsonError(data []byte, err error) string {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err.Error()
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

// WriteDir writes report.json, report.md, report.html and
// navigator-layer.json into dir, creating it. Each file is written whole
// to a temporary name and renamed, so a reader never sees half a report.
func WriteDir(dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write reports: %w", err)
	}
	writers := []struct {
		name  string
		write func(io.Writer) error
	}{
		{JSONFile, r.WriteJSON},
		{MarkdownFile, r.WriteMarkdown},
		{HTMLFile, r.WriteHTML},
		{NavigatorFile, r.WriteNavigator},
	}
	for _, w := range writers {
		var buf bytes.Buffer
		if err := w.write(&buf); err != nil {
			return err
		}
		path := filepath.Join(dir, w.name)
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %q: %w", path, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("write %q: %w", path, err)
		}
	}
	return nil
}
