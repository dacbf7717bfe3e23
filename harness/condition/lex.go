package condition

import "strings"

// The token classes of libs' parser.cpp, written as scanners: each returns
// the end of the longest match at s[i:] (the RE2 expressions there run in
// POSIX, leftmost-longest mode), or i when nothing matches.

// isBlank is what lex_blank skips between tokens.
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\b' || c == '\r' || c == '\n'
}

// isSpace is POSIX [:space:], used inside the regular expressions.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isIdentByte(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '_'
}

// scanIdent matches RGX_IDENTIFIER, [a-zA-Z]+[a-zA-Z0-9_]*.
func scanIdent(s string, i int) int {
	if i >= len(s) || !isLetter(s[i]) {
		return i
	}
	i++
	for i < len(s) && isIdentByte(s[i]) {
		i++
	}
	return i
}

// scanFieldName matches RGX_FIELDNAME: an identifier followed by one or
// more `.segment`, each segment an identifier.
func scanFieldName(s string, i int) int {
	j := scanIdent(s, i)
	if j == i {
		return i
	}
	segments := 0
	for j+1 < len(s) && s[j] == '.' && isLetter(s[j+1]) {
		j = scanIdent(s, j+1)
		segments++
	}
	if segments == 0 {
		return i
	}
	return j
}

// scanFieldArg matches RGX_FIELDARGBARESTR, [^][\"'[:space:]]+.
func scanFieldArg(s string, i int) int {
	for i < len(s) && !isSpace(s[i]) && !strings.ContainsRune(`[]"'`, rune(s[i])) {
		i++
	}
	return i
}

// scanBare matches RGX_BARESTR, [^()\"'[:space:]=,]+.
func scanBare(s string, i int) int {
	for i < len(s) && !isSpace(s[i]) && !strings.ContainsRune(`()"'=,`, rune(s[i])) {
		i++
	}
	return i
}

func isHexDigit(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanHex matches RGX_HEXNUM, 0[xX][0-9a-fA-F]+.
func scanHex(s string, i int) int {
	if i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && isHexDigit(s[i+2]) {
		j := i + 3
		for j < len(s) && isHexDigit(s[j]) {
			j++
		}
		return j
	}
	return i
}

// scanNumber matches RGX_NUMBER, [+\-]?[0-9]+[\.]?[0-9]*([eE][+\-][0-9]+)?.
func scanNumber(s string, i int) int {
	j := i
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	d := j
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j == d {
		return i
	}
	if j < len(s) && s[j] == '.' {
		j++
	}
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j+2 < len(s) && (s[j] == 'e' || s[j] == 'E') && (s[j+1] == '+' || s[j+1] == '-') && isDigit(s[j+2]) {
		j += 3
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	return j
}

// scanNumeric matches what a numeric operator takes: a hexadecimal number,
// else a decimal one.
func scanNumeric(s string, i int) int {
	if j := scanHex(s, i); j > i {
		return j
	}
	return scanNumber(s, i)
}

// scanQuoted matches a quoted string at s[i] the way lex_quoted_str does:
// up to the first quote of the same kind that does not follow a backslash.
// It returns the end (after the closing quote), or i when the string is not
// closed.
func scanQuoted(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		if s[j] == q && s[j-1] != '\\' {
			return j + 1
		}
	}
	return i
}

// unquote resolves the escapes of a quoted token as libs' unescape_str
// does (escaping.cpp). On an escape Falco refuses it returns the offset of
// the backslash within tok and a message.
func unquote(tok string) (string, int, string) {
	q := tok[0]
	body := tok[1 : len(tok)-1]
	if !strings.Contains(body, `\`) {
		return body, 0, ""
	}
	var b strings.Builder
	for k := 0; k < len(body); k++ {
		c := body[k]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		k++
		switch e := body[k]; e {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case ' ', '\\':
			// libs turns `\ ` into a backslash, for old rules that
			// escaped blanks.
			b.WriteByte('\\')
		case '/':
			b.WriteByte('/')
		case '"', '\'':
			if e != q {
				return "", k, `invalid \` + string(e) + ` escape in a ` + string(q) + `-quoted string (write ` + string(e) + ` alone)`
			}
			b.WriteByte(e)
		default:
			return "", k, `unsupported escape sequence \` + string(e) + ` (Falco knows \b \f \n \r \t \\ \/ and the quote)`
		}
	}
	return b.String(), 0, ""
}
