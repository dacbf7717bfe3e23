// Package alert holds the transport-neutral Falco alert, the sources that receive alerts (gRPC,
// HTTP) and the hub that routes them to the scenario that caused them.
package alert
