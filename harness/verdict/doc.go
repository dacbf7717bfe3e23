// Package verdict judges the alerts of one scenario attempt against its expectations and holds
// the resulting verdict.
package verdict
