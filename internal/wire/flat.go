package wire

import (
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Ways a message is not one flat JSON object of strings.
var (
	// ErrNotFlat: not one JSON object whose values are all strings (bad
	// syntax, another value type, trailing data, invalid UTF-8).
	ErrNotFlat = errors.New("not one flat JSON object of strings")
	// ErrDuplicate: a name appears twice. encoding/json would keep the
	// last, so what was signed and what is used could differ.
	ErrDuplicate = errors.New("a name appears twice")
)

// FlatError is why ParseFlat refused a message, with the member's name
// when the fault is in one member (Name is "" for a syntax error outside
// any value). It matches ErrNotFlat or ErrDuplicate.
type FlatError struct {
	Name string
	Err  error
}

func (e *FlatError) Error() string {
	if e.Name == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("%s: %q", e.Err, e.Name)
}

func (e *FlatError) Unwrap() error { return e.Err }

// ParseFlat reads a message envelope: exactly one JSON object (RFC 8259)
// whose values are all strings, each name once, nothing after it but
// whitespace. It accepts what encoding/json accepts for such an object and
// refuses in addition a name given twice, invalid UTF-8 and an escaped
// lone surrogate (which encoding/json would turn into U+FFFD, so that two
// different messages would read the same).
//
// It is the one parser of envelopes on both sides (the SDK's answers and
// notifications, the sandbox's requests) and copies the body once: values
// without escapes are substrings of that copy.
func ParseFlat(body []byte) (map[string]string, error) {
	p := flatParser{s: string(body)}
	p.ws()
	if !p.eat('{') {
		return nil, &FlatError{Err: ErrNotFlat}
	}
	fields := make(map[string]string, 16)
	p.ws()
	if !p.eat('}') {
		for {
			p.ws()
			name, ok := p.str()
			if !ok {
				return nil, &FlatError{Err: ErrNotFlat}
			}
			p.ws()
			if !p.eat(':') {
				return nil, &FlatError{Name: name, Err: ErrNotFlat}
			}
			p.ws()
			v, ok := p.str()
			if !ok {
				return nil, &FlatError{Name: name, Err: ErrNotFlat}
			}
			if _, dup := fields[name]; dup {
				return nil, &FlatError{Name: name, Err: ErrDuplicate}
			}
			fields[name] = v
			p.ws()
			if p.eat('}') {
				break
			}
			if !p.eat(',') {
				return nil, &FlatError{Err: ErrNotFlat}
			}
		}
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, &FlatError{Err: ErrNotFlat}
	}
	return fields, nil
}

type flatParser struct {
	s string
	i int
}

func (p *flatParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *flatParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a JSON string at p.i. Without escapes it is a substring of
// p.s; with them, a new string.
func (p *flatParser) str() (string, bool) {
	if !p.eat('"') {
		return "", false
	}
	start := p.i
	ascii := true
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			v := p.s[start:p.i]
			p.i++
			if !ascii && !utf8.ValidString(v) {
				return "", false
			}
			return v, true
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		p.i++
	}
	return "", false
}

// escaped finishes a string that has an escape at p.i, from start.
func (p *flatParser) escaped(start int) (string, bool) {
	b := make([]byte, 0, p.i-start+16)
	b = append(b, p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			if !utf8.Valid(b) {
				return "", false
			}
			return string(b), true
		case c < 0x20:
			return "", false
		case c != '\\':
			b = append(b, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			return "", false
		}
		e := p.s[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				// Only a high surrogate followed by an escaped low one.
				if r >= 0xdc00 || p.i+1 >= len(p.s) || p.s[p.i] != '\\' || p.s[p.i+1] != 'u' {
					return "", false
				}
				p.i += 2
				lo, ok := p.hex4()
				if !ok {
					return "", false
				}
				if r = utf16.DecodeRune(r, lo); r == utf8.RuneError {
					return "", false
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", false
		}
	}
	return "", false
}

func (p *flatParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(p.s[p.i : p.i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}
