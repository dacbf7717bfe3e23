package condition

import "fmt"

// SyntaxError is a condition Falco's parser would refuse. Offset is the
// byte offset in the condition where the problem is; map it to the file with
// the position of the condition text.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg)
}
