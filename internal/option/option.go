// Package option applies functional options the one way the SDK's
// constructors take them, and checks the durations they set.
package option

import (
	"errors"
	"fmt"
	"time"
)

// Apply runs opts on v in order and returns the first error: nilErr for a
// nil option (a caller's typo, never skipped silently), else the option's
// own.
func Apply[T any, O ~func(*T) error](v *T, nilErr string, opts []O) error {
	for _, o := range opts {
		if o == nil {
			return errors.New(nilErr)
		}
		if err := o(v); err != nil {
			return err
		}
	}
	return nil
}

// Retention checks how long a store keeps a record: at least a
// millisecond, the stores' resolution. name is the option, for the error.
func Retention(name string, d time.Duration) error {
	if d < time.Millisecond {
		return fmt.Errorf("%s: %v is shorter than a millisecond", name, d)
	}
	return nil
}
