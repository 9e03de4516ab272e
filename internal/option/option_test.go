package option_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/option"
)

type thing struct{ n []int }

type opt func(*thing) error

func set(n int) opt { return func(t *thing) error { t.n = append(t.n, n); return nil } }

func TestApply(t *testing.T) {
	var v thing
	require.NoError(t, option.Apply(&v, "nil", []opt{set(1), set(2)}))
	require.Equal(t, []int{1, 2}, v.n, "in order")

	bad := errors.New("bad")
	v = thing{}
	err := option.Apply(&v, "nil", []opt{set(1), func(*thing) error { return bad }, set(3)})
	require.ErrorIs(t, err, bad)
	require.Equal(t, []int{1}, v.n, "stops at the first error")

	require.EqualError(t, option.Apply(&v, "pkg: nil Option", []opt{nil}), "pkg: nil Option")
	require.NoError(t, option.Apply[thing, opt](&v, "nil", nil))
}

func TestRetention(t *testing.T) {
	require.NoError(t, option.Retention("WithRetention", time.Millisecond))
	require.EqualError(t, option.Retention("pkg: WithRetention", time.Microsecond), "pkg: WithRetention: 1µs is shorter than a millisecond")
	require.Error(t, option.Retention("x", -time.Hour))
}
