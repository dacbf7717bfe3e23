// Package attack is the MITRE ATT\&CK Enterprise vocabulary: technique ids and tactics as types,
// checked against an embedded technique table.
package attack
