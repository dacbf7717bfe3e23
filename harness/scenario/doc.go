// Package scenario defines attack scenarios and loads them from YAML technique files with strict
// decoding and file:line errors.
package scenario
