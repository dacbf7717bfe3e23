package attack

// TechniqueID is an ATT&CK technique or sub-technique id: "T1490", "T1003.008".
type TechniqueID string

// Tactic is an ATT&CK tactic by its short name: "impact", "credential-access".
type Tactic string

// Technique is one row of the embedded ATT&CK table.
type Technique struct {
	ID         TechniqueID
	Name       string
	Tactics    []Tactic // kill-chain order
	Platforms  []string
	Deprecated bool
}
