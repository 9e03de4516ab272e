module github.com/xinyun-open/ewallet-go/sign/interop

go 1.25.0

// The tests always run against the sign package of this checkout.
replace github.com/xinyun-open/ewallet-go => ../..

require (
	github.com/stretchr/testify v1.12.1
	github.com/tjfoc/gmsm v1.4.1
	github.com/xinyun-open/ewallet-go v0.0.0-00010101000000-000000000000
)

require (
	github.com/emmansun/gmsm v0.43.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.54.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
