// Package alert holds the transport-neutral Falco alert, the sources that receive alerts (gRPC,
// HTTP) and the hub that routes them to the scenario that caused them.
//
// Sources, each a Source:
//   - GRPCSource subscribes to Falco's gRPC outputs service (Falco ≤ 0.43) with client-go, over
//     a unix socket or TCP with mutual TLS (GenerateCerts makes a throw-away PKI). It polls at
//     PollInterval, reconnects a broken stream for a bounded time and then fails loudly.
//   - HTTPReceiver takes Falco's http_output POSTs (every Falco version), serving from the moment
//     it is created so nothing posted before Run is lost.
//   - ChannelSource replays alerts the program pushes (recorded samples, see DecodeJSONL), for
//     tests that run no Falco.
//
// DecodeJSON and FromGRPC turn both wire shapes into the same Alert: output fields as strings
// with numbers' literal digits (evt.time) and Falco's null as NA.
package alert
