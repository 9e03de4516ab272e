// Package check runs the field rules of a request in order and reports the
// first failure as a *wallet.FieldError, for the service packages (account,
// payment, h5) that validate before any network call.
package check

import (
	"errors"
	"strings"

	"github.com/xinyun-open/ewallet-go/wallet"
)

// Field pairs a protocol field name with the result of its rule.
type Field struct {
	Name string
	Err  error
}

// First returns the first failing field as a *wallet.FieldError, or nil.
func First(fields ...Field) error {
	for _, f := range fields {
		if f.Err != nil {
			return &wallet.FieldError{Field: f.Name, Reason: f.Err.Error()}
		}
	}
	return nil
}

// If returns reason as an error when bad holds.
func If(bad bool, reason string) error {
	if bad {
		return errors.New(reason)
	}
	return nil
}

// OneOf checks that v is one of allowed.
func OneOf[T ~string](v T, allowed ...T) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return errors.New("must be one of " + strings.Join(names, ", "))
}
