// Package interop proves that package sign interoperates with
// github.com/tjfoc/gmsm, the SM2 library many bank peers run: signatures,
// C1C3C2 ciphertexts and PEM keys cross both ways, and its benchmarks set
// the speed of sign next to tjfoc's in one run.
//
// It is a module of its own so that tjfoc/gmsm (and the old gRPC and
// protobuf it pulls in) stays out of the module graph of every merchant who
// requires github.com/xinyun-open/ewallet-go. Its tests run from this
// directory:
//
//	cd sign/interop && go test ./...
//	cd sign/interop && go test -run '^$' -bench . ./...
//
// The package has no API; it holds tests only.
package interop
