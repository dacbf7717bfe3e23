// Package linux holds the Linux vocabulary that scenario files, victims and the Falco container
// share: capability names (linux/capability.h) and /etc/hosts entries ("name:ip", as Docker's
// --add-host takes them). Both are checked here once, so a scenario file, an environment
// variable and a container option reject the same mistakes with the same words.
package linux
