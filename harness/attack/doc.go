// Package attack is the MITRE ATT&CK Enterprise vocabulary: technique ids and tactics as types,
// checked against an embedded technique table (enterprise-techniques.json, one ATT&CK release),
// and the meaning of Falco rule tags ("T1490", "mitre_impact") in that release.
package attack
