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
	fields := make(map[string]string, 16)
	err := Members(body, func(name string, v Value) error {
		if !v.String {
			return ErrNotFlat
		}
		fields[name] = v.Text
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fields, nil
}

// Value is one member's value as Members hands it out: a string's
// decoded text, or the literal text of a number, true, false or null.
type Value struct {
	Text   string
	String bool
}

// Members reads exactly one JSON object of scalar members (strings,
// numbers, true, false, null; a nested object or array is ErrNotFlat) and
// calls visit for each in document order, under the same rules as
// ParseFlat: each name once, valid UTF-8, no lone surrogate, nothing after
// the object. An error from visit ends it, as a *FlatError naming the
// member and wrapping that error.
func Members(body []byte, visit func(name string, v Value) error) error {
	return MembersOf(string(body), visit)
}

// MembersOf is Members over a string: values without escapes are
// substrings of s, so a caller that holds its bytes still (and keeps no
// value past them) can read a large message without copying it.
func MembersOf(s string, visit func(name string, v Value) error) error {
	p := flatParser{s: s}
	p.ws()
	if !p.eat('{') {
		return &FlatError{Err: ErrNotFlat}
	}
	var seen names
	p.ws()
	if !p.eat('}') {
		for {
			p.ws()
			name, ok := p.str()
			if !ok {
				return &FlatError{Err: ErrNotFlat}
			}
			p.ws()
			if !p.eat(':') {
				return &FlatError{Name: name, Err: ErrNotFlat}
			}
			p.ws()
			v, ok := p.value()
			if !ok {
				return &FlatError{Name: name, Err: ErrNotFlat}
			}
			if seen.add(name) {
				return &FlatError{Name: name, Err: ErrDuplicate}
			}
			if err := visit(name, v); err != nil {
				return &FlatError{Name: name, Err: err}
			}
			p.ws()
			if p.eat('}') {
				break
			}
			if !p.eat(',') {
				return &FlatError{Err: ErrNotFlat}
			}
		}
	}
	p.ws()
	if p.i != len(p.s) {
		return &FlatError{Err: ErrNotFlat}
	}
	return nil
}

// names are the member names read so far: a linear scan over the first
// 16 (an envelope has about a dozen; no allocation), a map after.
type names struct {
	few  [16]string
	n    int
	many map[string]struct{}
}

// add records name and reports whether it was there already.
func (ns *names) add(name string) bool {
	if ns.many != nil {
		if _, dup := ns.many[name]; dup {
			return true
		}
		ns.many[name] = struct{}{}
		return false
	}
	for _, n := range ns.few[:ns.n] {
		if n == name {
			return true
		}
	}
	if ns.n < len(ns.few) {
		ns.few[ns.n] = name
		ns.n++
		return false
	}
	ns.many = make(map[string]struct{}, 2*len(ns.few))
	for _, n := range ns.few {
		ns.many[n] = struct{}{}
	}
	ns.many[name] = struct{}{}
	return false
}

type flatParser struct {
	s string
	i int
}

// value reads a scalar JSON value at p.i.
func (p *flatParser) value() (Value, bool) {
	if p.i >= len(p.s) {
		return Value{}, false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		v, ok := p.str()
		return Value{Text: v, String: true}, ok
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		if !p.number() {
			return Value{}, false
		}
		return Value{Text: p.s[start:p.i]}, true
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(p.s)-p.i >= len(lit) && p.s[p.i:p.i+len(lit)] == lit {
				p.i += len(lit)
				return Value{Text: lit}, true
			}
		}
		return Value{}, false
	}
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (p *flatParser) number() bool {
	p.eat('-')
	switch {
	case p.eat('0'):
	case p.i < len(p.s) && p.s[p.i] >= '1' && p.s[p.i] <= '9':
		p.digits()
	default:
		return false
	}
	if p.eat('.') && !p.digits() {
		return false
	}
	if p.eat('e') || p.eat('E') {
		if !p.eat('+') {
			p.eat('-')
		}
		if !p.digits() {
			return false
		}
	}
	return true
}

// digits reads one or more digits.
func (p *flatParser) digits() bool {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	return p.i > start
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
