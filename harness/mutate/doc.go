// Package mutate tests the scenarios of Falco rules by mutation: it makes
// weakened or broken copies of a rule (mutants) and tells, from the alerts
// of a run, which of them some scenario notices (killed) and which none does
// (survived). A surviving mutant is a clause the scenarios do not pin down:
// a guard no scenario needs, an item of a list no attack uses, or an
// equivalent rewrite a person has to judge.
//
// Generate expands each selected rule's condition (macros and lists
// replaced by their definitions, so a mutant of a macro's clause changes
// that rule only) and applies the operators of Operators, one change per
// mutant, in the order of the clauses in the expanded condition. Mutants
// whose printed condition equals the original's or an earlier mutant's are
// left out. Set.YAML renders every mutant as a full rule, named
// "<rule> [mutant N: <what changed>]", with the original's output,
// priority, tags, source and exceptions, to be loaded after the originals;
// Set.Screen checks that file with rules.Index.Check and sets aside what
// Falco would refuse.
//
// Classify re-judges each scenario that names a rule (or "*" where the rule
// is a candidate) with the rule's matchers renamed to each of its mutants,
// through harness/verdict, and compares the outcome with the original's.
// Predict does the same without Falco: it synthesises the execve events of
// each scenario's steps (Events) and evaluates the conditions over them
// with condition.Eval, which is a prediction, not a run. Report renders
// either as mutants.md, mutants.json and a self-contained mutants.html.
package mutate
